/// A money column's total in a restated partition, before and after (exact decimal text).
public struct AmountChange: Sendable, Codable, Equatable {
    public var column: String
    public var currency: String?
    public var before: String
    public var after: String

    /// `settled_gross USD 0.00 -> 1234.56`.
    public var text: String { "\(column)\(currency.map { " " + $0 } ?? "") \(before) -> \(after)" }
}

/// A partition a publish replaced.
public struct PartitionChange: Sendable, Codable, Equatable {
    public var table: String
    /// The partition's value (`2026-10-03`), or `*` for a table without partitions.
    public var partition: String
    public var rowsBefore: Int
    public var rowsAfter: Int
    /// For a restatement: the money columns whose partition totals changed.
    public var amounts: [AmountChange]?
    /// True when the partition's period had closed before the run's period began and had been
    /// published before: figures finance may already have seen changed.
    public var restatement: Bool

    enum CodingKeys: String, CodingKey {
        case table, partition, restatement, amounts
        case rowsBefore = "rows_before"
        case rowsAfter = "rows_after"
    }
}

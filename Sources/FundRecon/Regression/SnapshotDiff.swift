import Postgres

/// One difference between expected and actual rows of a golden table.
public struct RowDifference: Sendable {
    public enum Kind: String, Sendable { case added, removed, changed }
    public var kind: Kind
    public var key: String
    /// For changed rows: column, expected value, actual value, and the numeric difference when both are numbers.
    public var columns: [(column: String, expected: String, actual: String, difference: String?)] = []
    public var row: [String] = []

    public var description: String {
        switch kind {
        case .added, .removed: return "\(kind.rawValue) \(key): \(row.joined(separator: ","))"
        case .changed:
            return "changed \(key): " + columns.map { c in
                "\(c.column) \(c.expected) -> \(c.actual)" + (c.difference.map { " (\($0))" } ?? "")
            }.joined(separator: ", ")
        }
    }
}

enum SnapshotDiff {
    /// Row-level differences, matched on the table's key columns; numbers compared exactly.
    static func diff(expected: TableSnapshot, actual: TableSnapshot) -> [RowDifference] {
        let keyColumns = TableSnapshot.keys[actual.table] ?? actual.header
        func keyIndexes(_ header: [String]) -> [Int] { keyColumns.compactMap { header.firstIndex(of: $0) } }
        guard expected.header == actual.header else {
            return [RowDifference(kind: .changed, key: "(columns)", columns: [("columns", expected.header.joined(separator: ","),
                                                                                actual.header.joined(separator: ","), nil)])]
        }
        let indexes = keyIndexes(actual.header)
        func key(_ row: [String]) -> String { indexes.map { $0 < row.count ? row[$0] : "" }.joined(separator: "|") }
        var expectedByKey: [String: [[String]]] = [:]
        for row in expected.rows { expectedByKey[key(row), default: []].append(row) }
        var actualByKey: [String: [[String]]] = [:]
        for row in actual.rows { actualByKey[key(row), default: []].append(row) }
        var differences: [RowDifference] = []
        for rowKey in Set(expectedByKey.keys).union(actualByKey.keys).sorted() {
            var before = expectedByKey[rowKey] ?? []
            var after = actualByKey[rowKey] ?? []
            // Identical rows cancel out; what is left is changed (pairwise), removed or added.
            for row in before {
                if let inAfter = after.firstIndex(of: row), let inBefore = before.firstIndex(of: row) {
                    after.remove(at: inAfter)
                    before.remove(at: inBefore)
                }
            }
            while let old = before.first, let new = after.first {
                before.removeFirst()
                after.removeFirst()
                var changed = RowDifference(kind: .changed, key: rowKey)
                for (index, column) in actual.header.enumerated() where old[index] != new[index] {
                    var difference: String?
                    if let a = Cents(old[index]), let b = Cents(new[index]) { difference = (b - a).description }
                    changed.columns.append((column, old[index], new[index], difference))
                }
                differences.append(changed)
            }
            differences += before.map { RowDifference(kind: .removed, key: rowKey, row: $0) }
            differences += after.map { RowDifference(kind: .added, key: rowKey, row: $0) }
        }
        return differences
    }
}

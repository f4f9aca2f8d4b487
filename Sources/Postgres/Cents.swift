/// An exact amount of money in minor units (cents): how FundRecon holds money in Swift.
///
/// Decodes from `numeric` only when no precision is lost; formats with two fraction digits.
public struct Cents: Sendable, Hashable, Comparable, CustomStringConvertible, PostgresEncodable, PostgresDecodable,
    AdditiveArithmetic
{
    /// The amount in minor units.
    public var rawValue: Int64

    /// An amount in minor units.
    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    /// Zero.
    public static let zero = Cents(0)

    /// Parses a decimal string with `.` and at most two fraction digits (more only when they are zeros).
    public init?(_ text: some StringProtocol) {
        self.init(utf8: text.utf8)
    }

    /// Parses a slice of UTF-8 bytes, as `init?(_:)` does (the fast path for loaders).
    public init?(utf8 slice: ArraySlice<UInt8>) {
        guard let value = slice.withUnsafeBufferPointer({ Cents(utf8: $0) }) else { return nil }
        self = value
    }

    /// Parses the UTF-8 bytes of a decimal string, as `init?(_:)` does.
    public init?<Bytes: Collection<UInt8>>(utf8: Bytes) {
        var negative = false
        var units: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var seenPoint = false
        var seenDigit = false
        var index = utf8.startIndex
        if index < utf8.endIndex, utf8[index] == UInt8(ascii: "-") || utf8[index] == UInt8(ascii: "+") {
            negative = utf8[index] == UInt8(ascii: "-")
            index = utf8.index(after: index)
        }
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
            } else if byte >= 48, byte <= 57 {
                seenDigit = true
                let digit = Int64(byte - 48)
                if seenPoint {
                    fractionDigits += 1
                    if fractionDigits <= 2 {
                        fraction = fraction * 10 + digit
                    } else if digit != 0 {
                        return nil
                    }
                } else {
                    let (times, o1) = units.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times.addingReportingOverflow(digit)
                    guard !o1, !o2, sum <= Int64.max / 100 - 1 else { return nil }
                    units = sum
                }
            } else {
                return nil
            }
            index = utf8.index(after: index)
        }
        guard seenDigit else { return nil }
        if fractionDigits == 1 { fraction *= 10 }
        let value = units * 100 + fraction
        rawValue = negative ? -value : value
    }

    /// `-12.30` style text.
    public var description: String {
        let magnitude = rawValue.magnitude
        let fraction = magnitude % 100
        return (rawValue < 0 ? "-" : "") + String(magnitude / 100) + (fraction < 10 ? ".0" : ".") + String(fraction)
    }

    public var postgresText: String? { description }

    public static func decode(postgresText text: String) throws -> Cents {
        guard let value = Cents(text) else { throw decodingError(text, Cents.self) }
        return value
    }

    public static func < (lhs: Cents, rhs: Cents) -> Bool { lhs.rawValue < rhs.rawValue }
    public static func + (lhs: Cents, rhs: Cents) -> Cents { Cents(lhs.rawValue + rhs.rawValue) }
    public static func - (lhs: Cents, rhs: Cents) -> Cents { Cents(lhs.rawValue - rhs.rawValue) }
    public static func += (lhs: inout Cents, rhs: Cents) { lhs = lhs + rhs }
    public static prefix func - (value: Cents) -> Cents { Cents(-value.rawValue) }
}

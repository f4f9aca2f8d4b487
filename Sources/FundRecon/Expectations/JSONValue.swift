import Foundation

/// A JSON value for observed figures and sample rows: numbers stay exact (Decimal), never Double.
public enum JSONValue: Sendable, Codable, Equatable {
    case string(String), number(Decimal), bool(Bool), null
    case array([JSONValue]), object([String: JSONValue])
    /// A number as the database printed it (`69.00`): a JSON number in files, its own text in reports.
    case numeral(String)

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default:
            guard let a = lhs.decimal, let b = rhs.decimal else { return false }
            return a == b
        }
    }

    /// The exact value of a number.
    public var decimal: Decimal? {
        switch self {
        case .number(let value): return value
        case .numeral(let text): return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        default: return nil
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .numeral: try container.encode(decimal ?? 0)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Decimal.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// The value as report text.
    public var text: String {
        switch self {
        case .string(let value): return value
        case .number(let value): return value.description
        case .numeral(let text): return text
        case .bool(let value): return value ? "true" : "false"
        case .null: return ""
        case .array(let values): return values.map(\.text).joined(separator: ", ")
        case .object(let values): return values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text)" }.joined(separator: ", ")
        }
    }
}

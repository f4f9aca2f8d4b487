import Foundation

/// A Swift value that can be bound as a statement parameter, sent in PostgreSQL's text format.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format; nil is NULL.
    var postgresText: String? { get }
}

/// A Swift value that can be decoded from a column in PostgreSQL's text output format.
public protocol PostgresDecodable {
    /// Decodes a non-NULL value from its text form.
    static func decode(postgresText text: String) throws -> Self
    /// The value for NULL; throws for non-optional types.
    static func decodeNull() throws -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws -> Self {
        throw PostgresError(kind: .decoding, message: "unexpected NULL for \(Self.self)")
    }
}

func decodingError<T>(_ text: String, _ type: T.Type) -> PostgresError {
    let shown = text.count > 40 ? String(text.prefix(40)) + "..." : text
    return PostgresError(kind: .decoding, message: "cannot decode '\(shown)' as \(type)")
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText text: String) throws -> Self { try Wrapped.decode(postgresText: text) }
    public static func decodeNull() throws -> Self { nil }
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public static func decode(postgresText text: String) throws -> String { text }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public static func decode(postgresText text: String) throws -> Int {
        guard let value = Int(text) else { throw decodingError(text, Int.self) }
        return value
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public static func decode(postgresText text: String) throws -> Int64 {
        guard let value = Int64(text) else { throw decodingError(text, Int64.self) }
        return value
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public static func decode(postgresText text: String) throws -> Int32 {
        guard let value = Int32(text) else { throw decodingError(text, Int32.self) }
        return value
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public static func decode(postgresText text: String) throws -> Bool {
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: throw decodingError(text, Bool.self)
        }
    }
}

extension Decimal: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { description }

    /// Decodes `numeric` exactly; refuses values Decimal cannot hold without rounding.
    public static func decode(postgresText text: String) throws -> Decimal {
        let digits = text.utf8.filter { $0 >= 48 && $0 <= 57 }.drop { $0 == 48 }
        guard digits.count <= 38, let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")),
            !value.isNaN
        else { throw decodingError(text, Decimal.self) }
        return value
    }
}

/// Timestamps (`timestamptz`) as `Date`: encoded as ISO 8601 UTC with microseconds.
extension Date: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? {
        let micros = Int64((timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        let day = CalendarDate(daysSinceEpoch: Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400))
        let secondOfDay = Int(seconds - Int64(day.daysSinceEpoch) * 86_400)
        return String(
            format: "%@ %02d:%02d:%02d.%06d+00", day.description, secondOfDay / 3600, secondOfDay / 60 % 60,
            secondOfDay % 60, Int(fraction))
    }

    /// Decodes PostgreSQL's ISO output (`2026-10-03 10:15:00.5+02`) into an exact instant.
    public static func decode(postgresText text: String) throws -> Date {
        guard let date = TimestampParser.parse(text) else { throw decodingError(text, Date.self) }
        return date
    }
}

/// Parses ISO 8601 timestamps with an offset, as PostgreSQL prints them and as data files carry them.
public enum TimestampParser {
    /// Parses `YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]]` followed by `Z`, `+HH`, `+HH:MM`, `+HHMM` or
    /// `+HH:MM:SS`; with no offset, `defaultOffsetSeconds` applies (nil means an offset is required).
    public static func parse(_ text: String, defaultOffsetSeconds: Int? = nil) -> Date? {
        parse(utf8: Array(text.utf8), defaultOffsetSeconds: defaultOffsetSeconds)
    }

    /// Parses UTF-8 bytes, as `parse(_:defaultOffsetSeconds:)` does.
    public static func parse(utf8 bytes: [UInt8], defaultOffsetSeconds: Int? = nil) -> Date? {
        parse(utf8: bytes[...], defaultOffsetSeconds: defaultOffsetSeconds)
    }

    /// Parses a slice of UTF-8 bytes without copying it.
    public static func parse(utf8 slice: ArraySlice<UInt8>, defaultOffsetSeconds: Int? = nil) -> Date? {
        let base = slice.startIndex
        let bytes = Slice0(slice: slice, base: base)
        guard bytes.count >= 16, let day = CalendarDate(isoBytes: slice[base..<(base + 10)]),
            bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"),
            let hour = number(bytes, 11, 2), bytes[13] == UInt8(ascii: ":"), let minute = number(bytes, 14, 2),
            hour < 24, minute < 60
        else { return nil }
        var index = 16
        var second = 0
        var micros = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            guard let value = number(bytes, index + 1, 2), value < 60 else { return nil }
            second = value
            index += 3
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                var digits = 0
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    if digits < 6 { micros = micros * 10 + Int(bytes[index] - 48) }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<max(digits, 6) { micros *= 10 }
            }
        }
        var offset: Int
        if index == bytes.count {
            guard let defaultOffsetSeconds else { return nil }
            offset = defaultOffsetSeconds
        } else if bytes[index] == UInt8(ascii: "Z"), index + 1 == bytes.count {
            offset = 0
        } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            // +HH, +HHMM, +HH:MM or +HH:MM:SS
            let rest = bytes.count - index - 1
            let colon = UInt8(ascii: ":")
            var parts: (hours: Int, minutes: Int, seconds: Int)
            if rest == 2, let h = number(bytes, index + 1, 2) {
                parts = (h, 0, 0)
            } else if rest == 4, let h = number(bytes, index + 1, 2), let m = number(bytes, index + 3, 2) {
                parts = (h, m, 0)
            } else if rest == 5, bytes[index + 3] == colon, let h = number(bytes, index + 1, 2),
                let m = number(bytes, index + 4, 2)
            {
                parts = (h, m, 0)
            } else if rest == 8, bytes[index + 3] == colon, bytes[index + 6] == colon, let h = number(bytes, index + 1, 2),
                let m = number(bytes, index + 4, 2), let sec = number(bytes, index + 7, 2)
            {
                parts = (h, m, sec)
            } else {
                return nil
            }
            // PostgreSQL takes offsets up to 15:59:59, with minutes and seconds below 60.
            guard parts.hours < 16, parts.minutes < 60, parts.seconds < 60 else { return nil }
            offset = sign * (parts.hours * 3600 + parts.minutes * 60 + parts.seconds)
        } else {
            return nil
        }
        let seconds = Int64(day.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        number(Slice0(slice: bytes[...], base: 0), start, count)
    }

    static func number(_ bytes: Slice0, _ start: Int, _ count: Int) -> Int? {
        guard start + count <= bytes.count else { return nil }
        var value = 0
        for position in start..<(start + count) {
            let byte = bytes[position]
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }
}

/// A slice read with 0-based positions, whatever its indices in the array it came from.
struct Slice0 {
    let slice: ArraySlice<UInt8>
    let base: Int

    var count: Int { slice.count }

    subscript(position: Int) -> UInt8 { slice[base + position] }
}

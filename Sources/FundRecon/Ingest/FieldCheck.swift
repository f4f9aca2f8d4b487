import Foundation
import Postgres

/// Checks one field's bytes against its column type, strictly enough that COPY and the models
/// never refuse what passes (no offset past 15:59, no year 0, no time zone PostgreSQL does not
/// know, no number past its column), without making a String of it (the load's hot path). An
/// event time outside the plausible window is a reject too.
struct FieldCheck {
    enum Outcome {
        /// Pass the bytes to COPY as they are (`suffix` appended: `+00` for UTC timestamps).
        case pass(suffix: [UInt8])
        /// NULL (an empty field).
        case null
        /// Keep the record in ods_rejects for this reason.
        case reject(String)
    }

    static let utcSuffix: [UInt8] = Array("+00".utf8)

    /// Where event times may fall.
    var window: EventWindow = .outer
    /// The time zone names PostgreSQL knows, lower-cased (read from the server when a file has a zone column).
    var zones: Set<String> = []

    func check(_ bytes: ArraySlice<UInt8>, as type: ColumnType, column: String, event: Bool = false) -> Outcome {
        if bytes.isEmpty { return .null }
        func bad(_ what: String) -> Outcome {
            .reject("bad \(what) in column \(column): '\(Self.shown(bytes))'")
        }
        func inWindow(_ instant: Date) -> Outcome {
            guard event, !window.contains(instant) else { return .pass(suffix: type.isUTC ? Self.utcSuffix : []) }
            return .reject("""
                \(column) '\(Self.shown(bytes))' is outside the plausible event window \(window): set the vars \
                event_window_start/event_window_end if it is right
                """)
        }
        switch type {
        case .text:
            return .pass(suffix: [])
        case .bigint:
            return Self.isInteger(bytes) ? .pass(suffix: []) : bad("integer")
        case .money:
            guard let cents = Cents(utf8: bytes), cents.rawValue.magnitude < 1_000_000_000_000_000 else { return bad("amount") }
            return .pass(suffix: [])
        case .decimal(let precision, let scale):
            return Self.isDecimal(bytes, precision: precision, scale: scale) ? .pass(suffix: []) : bad("number")
        case .timestampWithOffset:
            guard let instant = TimestampParser.parse(utf8: bytes) else { return bad("timestamp (ISO 8601 with offset)") }
            return inWindow(instant)
        case .timestampUTC, .timestampLocal:
            guard bytes.count == 19, let instant = TimestampParser.parse(utf8: bytes, defaultOffsetSeconds: 0) else {
                return bad("timestamp (YYYY-MM-DD HH:MM:SS)")
            }
            return inWindow(instant)
        case .date:
            return CalendarDate(utf8: bytes) != nil ? .pass(suffix: []) : bad("date")
        case .boolean:
            return bytes.elementsEqual("true".utf8) || bytes.elementsEqual("false".utf8) ? .pass(suffix: []) : bad("boolean")
        case .timeZone:
            return zones.contains(String(decoding: bytes, as: UTF8.self).lowercased()) ? .pass(suffix: []) : bad("time zone name")
        }
    }

    /// The field as a reject's reason quotes it: at most 40 characters.
    static func shown(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix(40), as: UTF8.self) + (bytes.count > 40 ? "..." : "")
    }

    /// The zone names PostgreSQL accepts in `AT TIME ZONE`, lower-cased.
    static func zones(on connection: Connection) throws -> Set<String> {
        let rows = try connection.query("SELECT lower(name) FROM pg_timezone_names UNION SELECT lower(abbrev) FROM pg_timezone_abbrevs")
        return Set(try rows.rows.map { try $0.decode(String.self, at: 0) })
    }

    /// An optional sign and 1 to 18 digits: always fits a bigint.
    static func isInteger(_ bytes: ArraySlice<UInt8>) -> Bool {
        var index = bytes.startIndex
        if bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        let digits = bytes.endIndex - index
        guard digits >= 1, digits <= 18 else { return false }
        return bytes[index...].allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// A plain decimal with at most `scale` fraction digits and `precision - scale` integer digits.
    static func isDecimal(_ bytes: ArraySlice<UInt8>, precision: Int, scale: Int) -> Bool {
        var integerDigits = 0
        var fractionDigits = 0
        var seenPoint = false
        var sawDigit = false
        var index = bytes.startIndex
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            index += 1
        }
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                if seenPoint { return false }
                seenPoint = true
            } else if byte >= 48 && byte <= 57 {
                sawDigit = true
                if seenPoint { fractionDigits += 1 } else if integerDigits > 0 || byte != 48 { integerDigits += 1 }
            } else {
                return false
            }
            index += 1
        }
        return sawDigit && fractionDigits <= scale && integerDigits <= precision - scale
    }
}

extension ColumnType {
    var isUTC: Bool {
        if case .timestampUTC = self { return true }
        return false
    }
}

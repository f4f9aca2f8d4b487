import Postgres

/// Checks one field's bytes against its column type, strictly enough that COPY never refuses what
/// passes, without making a String of it (the load's hot path).
enum FieldCheck {
    enum Outcome {
        /// Pass the bytes to COPY as they are (`suffix` appended: `+00` for UTC timestamps).
        case pass(suffix: [UInt8])
        /// NULL (an empty field).
        case null
        /// Keep the record in ods_rejects for this reason.
        case reject(String)
    }

    static let utcSuffix: [UInt8] = Array("+00".utf8)

    static func check(_ bytes: ArraySlice<UInt8>, as type: ColumnType, column: String) -> Outcome {
        if bytes.isEmpty { return .null }
        func bad(_ what: String) -> Outcome {
            let text = String(decoding: bytes.prefix(40), as: UTF8.self) + (bytes.count > 40 ? "..." : "")
            return .reject("bad \(what) in column \(column): '\(text)'")
        }
        switch type {
        case .text:
            return .pass(suffix: [])
        case .bigint:
            return isInteger(bytes) ? .pass(suffix: []) : bad("integer")
        case .money:
            guard let cents = Cents(utf8: bytes), cents.rawValue.magnitude < 1_000_000_000_000_000 else { return bad("amount") }
            return .pass(suffix: [])
        case .decimal(let precision, let scale):
            return isDecimal(bytes, precision: precision, scale: scale) ? .pass(suffix: []) : bad("number")
        case .timestampWithOffset:
            return TimestampParser.parse(utf8: bytes) != nil
                ? .pass(suffix: []) : bad("timestamp (ISO 8601 with offset)")
        case .timestampUTC, .timestampLocal:
            guard bytes.count == 19, TimestampParser.parse(utf8: bytes, defaultOffsetSeconds: 0) != nil else {
                return bad("timestamp (YYYY-MM-DD HH:MM:SS)")
            }
            return .pass(suffix: type.isUTC ? utcSuffix : [])
        case .date:
            return CalendarDate(utf8: bytes) != nil ? .pass(suffix: []) : bad("date")
        case .boolean:
            return bytes.elementsEqual("true".utf8) || bytes.elementsEqual("false".utf8) ? .pass(suffix: []) : bad("boolean")
        }
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

import Postgres

/// Checks one field's text against its column type, strictly enough that COPY never refuses what
/// passes. Returns the text to hand to COPY (nil for NULL), or the reason it is rejected.
enum FieldCheck {
    enum Outcome {
        case value(String?)
        case reject(String)
    }

    static func check(_ bytes: ArraySlice<UInt8>, as type: ColumnType, column: String) -> Outcome {
        if bytes.isEmpty { return .value(nil) }
        let text = String(decoding: bytes, as: UTF8.self)
        func bad(_ what: String) -> Outcome {
            let shown = text.count > 40 ? String(text.prefix(40)) + "..." : text
            return .reject("bad \(what) in column \(column): '\(shown)'")
        }
        switch type {
        case .text:
            return .value(text)
        case .bigint:
            guard Int64(text) != nil else { return bad("integer") }
            return .value(text)
        case .money:
            guard let cents = Cents(text), cents.rawValue.magnitude < 1_000_000_000_000_000 else { return bad("amount") }
            return .value(text)
        case .decimal(let precision, let scale):
            guard isDecimal(bytes, precision: precision, scale: scale) else { return bad("number") }
            return .value(text)
        case .timestampWithOffset:
            guard TimestampParser.parse(text) != nil else { return bad("timestamp (ISO 8601 with offset)") }
            return .value(text)
        case .timestampUTC:
            guard bytes.count == 19, TimestampParser.parse(text + "Z") != nil else { return bad("timestamp (YYYY-MM-DD HH:MM:SS)") }
            return .value(text + "+00")
        case .timestampLocal:
            guard bytes.count == 19, TimestampParser.parse(text + "Z") != nil else { return bad("timestamp (YYYY-MM-DD HH:MM:SS)") }
            return .value(text)
        case .date:
            guard CalendarDate(text) != nil else { return bad("date") }
            return .value(text)
        case .boolean:
            guard text == "true" || text == "false" else { return bad("boolean") }
            return .value(text)
        }
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
        guard index < bytes.endIndex else { return false }
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

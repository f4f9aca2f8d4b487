import Foundation
import Postgres

/// Identifies one run: `r` + UTC timestamp + `_` + random suffix, e.g. `r20261129185300_3fa9c1`.
public struct RunID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The id's text.
    public let rawValue: String

    /// Parses an id; nil unless it has the exact shape FundRecon makes.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 22, bytes[0] == UInt8(ascii: "r"), bytes[15] == UInt8(ascii: "_"),
            bytes[1..<15].allSatisfy({ $0 >= 48 && $0 <= 57 }),
            bytes[16...].allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
        else { return nil }
        rawValue = text
    }

    /// A fresh id for a run starting now.
    public static func generate(at date: Date = Date()) -> RunID {
        let seconds = Int(date.timeIntervalSince1970)
        let day = CalendarDate(daysSinceEpoch: seconds / 86_400).description.replacingOccurrences(of: "-", with: "")
        let second = seconds % 86_400
        let time = String(format: "%02d%02d%02d", second / 3600, second / 60 % 60, second % 60)
        let suffix = String(format: "%06x", UInt32.random(in: 0...0xFF_FFFF))
        // The shape is fixed above, so parsing cannot fail.
        return RunID(uncheckedText: "r\(day)\(time)_\(suffix)")
    }

    private init(uncheckedText: String) {
        rawValue = uncheckedText
    }

    public var description: String { rawValue }

    public static func < (lhs: RunID, rhs: RunID) -> Bool { lhs.rawValue < rhs.rawValue }
}

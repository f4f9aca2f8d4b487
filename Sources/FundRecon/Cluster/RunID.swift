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

/// The warehouse layers, each a schema of its own in a run.
public enum Layer: String, Sendable, CaseIterable, Codable {
    case oltp, ods, dwd, dws, ads
}

/// The names of one run's schemas: `rc_<runid>_<layer>` for an ephemeral run, `<prefix>_<layer>`
/// for a persistent warehouse (`recon run --schema-prefix`).
public struct RunSchemas: Sendable, Hashable {
    /// What every schema name starts with, before `_<layer>`.
    public let base: String

    /// Schemas of an ephemeral run.
    public init(runID: RunID) {
        base = "rc_" + runID.rawValue
    }

    /// Schemas of a persistent warehouse.
    public init(prefix: String) {
        base = prefix
    }

    /// The schema of one layer.
    public func name(_ layer: Layer) -> String { "\(base)_\(layer.rawValue)" }

    /// Every schema of the run, in layer order.
    public var all: [String] { Layer.allCases.map(name) }

    /// The run a schema name belongs to, when it is one of ours.
    public static func runID(ofSchema schema: String) -> RunID? {
        guard schema.hasPrefix("rc_"), let last = schema.lastIndex(of: "_"),
            Layer(rawValue: String(schema[schema.index(after: last)...])) != nil
        else { return nil }
        return RunID(String(schema[schema.index(schema.startIndex, offsetBy: 3)..<last]))
    }
}

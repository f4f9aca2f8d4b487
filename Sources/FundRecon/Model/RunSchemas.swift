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

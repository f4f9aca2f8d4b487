/// The warehouse layers, each a schema of its own in a run.
public enum Layer: String, Sendable, CaseIterable, Codable {
    case oltp, ods, dwd, dws, ads
}

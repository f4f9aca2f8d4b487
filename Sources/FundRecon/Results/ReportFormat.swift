/// A report file kind (`--format`).
public enum ReportFormat: String, Sendable, CaseIterable {
    case html, xlsx, junit, json
}

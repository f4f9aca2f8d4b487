/// A report file kind (`--format`).
public enum ReportFormat: String, Sendable, CaseIterable {
    case html, xlsx, junit, json
    /// The HTML report printed to PDF by headless Chromium (when installed).
    case pdf

    /// What a run writes unless told otherwise (a PDF needs Chromium: asked for by name).
    public static let defaults: [ReportFormat] = [.html, .xlsx, .junit, .json]
}

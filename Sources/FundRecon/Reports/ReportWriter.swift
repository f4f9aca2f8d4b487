import Foundation

/// Writes a run's report files from its result, each file once: results.json (the run's record,
/// written by every run that asks for it), and junit.xml, the HTML and the XLSX when `write_reports`
/// gathered their inputs.
public struct ReportWriter: Sendable {
    /// The reports folder (created when missing).
    public var directory: String
    /// The kinds of file to write.
    public var formats: Set<ReportFormat>
    /// The HTML and XLSX file names' stem: `recon-report`, or `monthly-2026-10` for a monthly pack.
    public var prefix = "recon-report"

    public init(directory: String, formats: Set<ReportFormat>) {
        self.directory = directory
        self.formats = formats
    }

    /// Writes the files; returns their paths. `breaks` streams every break for the workbook.
    @discardableResult
    public func write(_ result: AuditResult, inputs: ReportInputs?, breaks: BreakSource?) throws -> [String] {
        guard !formats.isEmpty else { return [] }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        func path(_ name: String) -> String {
            let path = directory + "/" + name
            written.append(path)
            return path
        }
        if formats.contains(.json) {
            try ResultsJSON.encode(result).write(to: URL(fileURLWithPath: path("results.json")))
        }
        guard let inputs else { return written }
        if formats.contains(.junit) {
            try Data(JUnitReport.render(result).utf8).write(to: URL(fileURLWithPath: path("junit.xml")))
        }
        if formats.contains(.html) {
            try Data(HTMLReport.render(result, data: inputs.figures, context: inputs.context).utf8)
                .write(to: URL(fileURLWithPath: path(prefix + ".html")))
        }
        if formats.contains(.xlsx) {
            try XLSXReport.write(result, data: inputs.figures, context: inputs.context, to: path(prefix + ".xlsx"), breaks: breaks)
        }
        return written
    }
}

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
        try Self.prepare(directory: directory)
        var written: [String] = []
        func path(_ name: String) -> String {
            let path = directory + "/" + name
            written.append(path)
            return path
        }
        if formats.contains(.json) {
            try Self.save(try ResultsJSON.encode(result), to: path("results.json"))
        }
        guard let inputs else { return written }
        if formats.contains(.junit) {
            try Self.save(Data(JUnitReport.render(result).utf8), to: path("junit.xml"))
        }
        if formats.contains(.html) || formats.contains(.pdf) {
            // The PDF is the HTML as written, printed: its print rules open every section.
            let html = HTMLReport.render(result, data: inputs.figures, context: inputs.context)
            if formats.contains(.html) { try Self.save(Data(html.utf8), to: path(prefix + ".html")) }
            if formats.contains(.pdf) { try PDFPrinter.print(html: html, to: path(prefix + ".pdf")) }
        }
        if formats.contains(.xlsx) {
            try XLSXReport.write(result, data: inputs.figures, context: inputs.context, to: path(prefix + ".xlsx"), breaks: breaks)
        }
        return written
    }

    /// Makes the reports folder; a path that is a file is bad input, named (exit code 2).
    static func prepare(directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw InputError(file: directory, message: "is a file, not a folder: the reports are written into a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RuntimeFailure(cause: "cannot create the reports folder \(directory): \(error.localizedDescription)",
                                 fix: "name a folder you may write to")
        }
    }

    /// Writes one report file; a failure (a full disk, no permission) is a runtime failure naming it.
    static func save(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw RuntimeFailure(cause: "cannot write the report \(path): \(error.localizedDescription)",
                                 fix: "free disk space or name a folder you may write to")
        }
    }
}

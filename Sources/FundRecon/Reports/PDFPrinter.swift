import Foundation

/// Prints an HTML page to PDF with headless Chromium (`apt-get install chromium`), which lays it
/// out with the report's print rules (A4 landscape, repeated table headers, nothing cut off).
enum PDFPrinter {
    /// The Chromium binary on the PATH, if any.
    static var chromium: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    static func print(html: String, to path: String) throws {
        guard let chromium else {
            throw RuntimeFailure(cause: "--format pdf needs headless Chromium, which is not installed",
                                 fix: "apt-get install chromium, or leave pdf out of --format (the HTML prints from a browser)")
        }
        // The page and Chromium's profile in one registered folder: removed at the end and on signals.
        let scratch = TemporaryFiles.path(.capture)
        defer { TemporaryFiles.remove(scratch) }
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let (page, profile) = (scratch + "/report.html", scratch + "/profile")
        try Data(html.utf8).write(to: URL(fileURLWithPath: page))
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let outcome = try ProcessRunner.run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--user-data-dir=\(profile)",
            "--print-to-pdf=\(absolute)", "file://" + page,
        ])
        guard outcome.status == 0, FileManager.default.fileExists(atPath: absolute) else {
            throw RuntimeFailure(cause: "Chromium could not print \(path): \(outcome.output.suffix(300))",
                                 fix: "check that chromium runs headless here (chromium --headless --version)")
        }
    }
}

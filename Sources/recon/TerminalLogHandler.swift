import Foundation
import Logging

/// Log lines for people at a terminal: `recon: warning: message` on standard error, no timestamps
/// or labels (those are for log collectors; `--verbose` adds the source label).
struct TerminalLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // After SIGINT/SIGTERM, failures the cleanup causes (sessions ended, files removed) are not reported.
        guard !interrupts.wasReceived else { return }
        let level = event.level == .notice || event.level == .info ? "" : "\(event.level): "
        let origin = logLevel <= .debug ? "[\(label)] " : ""
        FileHandle.standardError.write(Data("recon: \(origin)\(level)\(event.message)\n".utf8))
    }
}

import Postgres

/// The result of loading a dataset into ODS.
public struct LoadReport: Sendable, Codable {
    /// One entry per file, in load order.
    public var files: [FileLoad] = []
    /// Incremental loads: files whose content changed since they were loaded (their rows are replaced).
    public var reloaded: [String] = []
    /// Incremental loads: the indexes of the extracts read whole, for the next runs to read only their window.
    public var extractIndexes: [String: ExtractIndex] = [:]

    /// Files in the dataset whose name matches no name of the contract: not loaded, listed so
    /// that a misnamed file is seen, not silently left out.
    public var ignored: [String] = []

    /// Incremental loads: each file's stamp, taken before its content was read (what the file
    /// system said of the content the SHA-256 was taken of), for the next runs to trust.
    public var stamps: [String: FileStamp] = [:]
    /// Incremental loads: files loaded before, hashed again and found unchanged (path -> SHA-256):
    /// their stamp is recorded for the next runs (a file loaded by a version that kept no stamp).
    public var unchanged: [String: String] = [:]
    /// Incremental loads: Adyen batches read to find the day of their latest record and not due
    /// yet, with the stamp they had: the next runs trust that day while the stamp holds.
    public var batchDays: [String: (stamp: FileStamp, day: CalendarDate)] = [:]

    /// The indexes and stamps are the next run's shortcut, not part of the report.
    enum CodingKeys: String, CodingKey { case files, reloaded, ignored }

    /// True when every file conserved its records (R11).
    public var isConserved: Bool { files.allSatisfy(\.isConserved) }

    /// Totals per source: read, loaded, rejected, files.
    public var totals: [String: (read: Int, loaded: Int, rejected: Int, files: Int)] {
        var result: [String: (read: Int, loaded: Int, rejected: Int, files: Int)] = [:]
        for file in files {
            var entry = result[file.source] ?? (0, 0, 0, 0)
            entry.read += file.rowsRead
            entry.loaded += file.rowsLoaded
            entry.rejected += file.rowsRejected
            entry.files += 1
            result[file.source] = entry
        }
        return result
    }
}

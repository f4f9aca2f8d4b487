/// What happened to one source file.
public struct FileLoad: Sendable, Codable, Equatable {
    /// `oltp`, `reseller`, `stripe` or `adyen`.
    public var source: String
    /// The path relative to the dataset directory.
    public var file: String
    /// The file's SHA-256 (empty for a missing file).
    public var sha256: String
    /// Data records read (header lines excluded).
    public var rowsRead: Int
    /// Records loaded into ODS.
    public var rowsLoaded: Int
    /// Records kept in `ods_rejects` with their reason.
    public var rowsRejected: Int
    /// `loaded`, `duplicate` (same content as an earlier file: not loaded again), `missing`,
    /// or `truncated` (a reseller file without its trailer: its lines load, the file is flagged).
    public var status: String
    /// For a duplicate, the file first loaded with the same content.
    public var duplicateOf: String?
    /// Time spent on the file (checksum, parse, COPY), in milliseconds.
    public var durationMS: Int = 0

    /// Rule R11: every record read was loaded or rejected.
    public var isConserved: Bool { rowsRead == rowsLoaded + rowsRejected }
}

/// The result of loading a dataset into ODS.
public struct LoadReport: Sendable, Codable {
    /// One entry per file, in load order.
    public var files: [FileLoad] = []
    /// Incremental loads: files whose content changed since they were loaded (their rows are replaced).
    public var reloaded: [String] = []

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

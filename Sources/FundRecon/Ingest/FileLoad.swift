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
    /// What happened to the file.
    public var status: FileLoadStatus
    /// For a duplicate, the file first loaded with the same content.
    public var duplicateOf: String?
    /// Time spent on the file (checksum, parse, COPY), in milliseconds.
    public var durationMS: Int = 0

    enum CodingKeys: String, CodingKey {
        case source, file, sha256, status
        case rowsRead = "rows_read"
        case rowsLoaded = "rows_loaded"
        case rowsRejected = "rows_rejected"
        case duplicateOf = "duplicate_of"
        case durationMS = "duration_ms"
    }

    /// Rule R11: every record read was loaded or rejected.
    public var isConserved: Bool { rowsRead == rowsLoaded + rowsRejected }
}

/// What happened to a source file.
public enum FileLoadStatus: String, Sendable, Codable {
    /// Its records were read; each was loaded or rejected.
    case loaded
    /// Same content as a file loaded before: not loaded again.
    case duplicate
    /// The file was expected and not there: its table stays empty and the completeness checks say so.
    case missing
    /// A reseller file without its trailer: its lines load, and the file is flagged.
    case truncated
    /// No header row (zero bytes or blank lines only): one reject records it, nothing loads.
    case empty
    /// Not loaded as a whole (dated outside the plausible event window, an XML DOCTYPE, a false
    /// encoding declaration): one reject says why.
    case rejected
    /// XML that breaks off before its end: what came before loaded, every sale after is a reject.
    case malformed
}

import Foundation
import Postgres

/// What an incremental load (`recon run`) takes: OLTP rows whose event time lies in
/// `[from, until)`, files of days before `filesDueBefore`, and nothing loaded before.
public struct LoadWindow: Sendable {
    /// The exclusive end of the period loaded (an instant).
    public var until: Date
    /// Daily files (Stripe, resellers, Adyen batches) of days before this business date are due.
    public var filesDueBefore: CalendarDate
    /// Per extract table, the end of the window the last run loaded (its watermark).
    public var from: [String: Date] = [:]
    /// Files loaded before, path -> SHA-256: the same path with the same content is not loaded again.
    public var knownFiles: [String: String] = [:]
    /// Files hashed before whose content was loaded (not duplicates), path -> the stamp they had
    /// and the SHA-256 taken then: a file with that stamp still is that content (`FileStamp`).
    public var hashed: [String: (stamp: FileStamp, sha256: String)] = [:]
    /// Content loaded before, SHA-256 -> first path: another path with it is a duplicate file.
    public var knownContents: [String: String] = [:]
    /// Lines already in `ods_rejects`, per file: not rejected (or counted) twice.
    public var rejectedLines: [String: Set<Int>] = [:]
    /// Per extract file, where its rows lie in time (as of the content it was taken from).
    public var extractIndexes: [String: ExtractIndex] = [:]
    /// Adyen batches that were not due when last read, path -> the stamp they had then and the
    /// day of their latest record: while the stamp holds the batch is not read again to find it.
    public var batchDays: [String: (stamp: FileStamp, day: CalendarDate)] = [:]

    public init(until: Date, filesDueBefore: CalendarDate) {
        self.until = until
        self.filesDueBefore = filesDueBefore
    }
}

import Foundation
import Logging
import Postgres

final class Loader {
    let directory: String
    let schemas: RunSchemas
    let connection: Connection
    let logger: Logger
    let window: LoadWindow?
    var report = LoadReport()
    var seen: [String: String] = [:]
    /// The reseller files' own rows (`ods_reseller_files`), written in one COPY when the part ends.
    var resellerFileRows: [[String?]] = []
    var ods: String { schemas.name(.ods) }

    /// Rejects are flushed (and a new COPY begun) every this many, so a bad file cannot fill memory.
    static let rejectBatch = 10_000

    /// Checks fields; knows the plausible event window and, once a file needs them, the server's time zones.
    var fields: FieldCheck

    init(directory: String, schemas: RunSchemas, connection: Connection, logger: Logger, window: LoadWindow?,
         events: EventWindow = .outer) {
        self.directory = directory
        fields = FieldCheck(window: events)
        self.schemas = schemas
        self.connection = connection
        self.logger = logger
        self.window = window
        seen = window?.knownContents ?? [:]
    }

    /// The OLTP extracts into their `ods_` tables.
    func runExtracts() throws -> LoadReport {
        for (file, table) in Sources.extracts {
            try timed("oltp/" + file) {
                try load(csv: "oltp/" + file, table: table, schema: ods, into: "ods_" + table.table, event: Ingest.eventColumns[table.table])
            }
        }
        try finish(tables: Sources.extracts.map { "ods_" + $0.table.table })
        let extracts = Set(Sources.extracts.map(\.file))
        report.ignored = unmatched(in: "oltp") { extracts.contains($0) }
        warnIgnored()
        return report
    }

    /// Stripe, Adyen and reseller files into their `ods_` tables.
    func runFiles() throws -> LoadReport {
        // A name without its date (or batch number) is not the contract's: listed as ignored below.
        for relative in listFiles("gateway/stripe", prefix: "payout_reconciliation_", suffix: ".csv")
            where dateInName(relative) != nil && isDue(relative) {
            guard try isPlausible(relative, source: "stripe") else { continue }
            try timed(relative) { try load(csv: relative, table: Sources.stripeTransactions, schema: ods, fileValues: [dateInName(relative)]) }
        }
        for relative in listFiles("gateway/stripe", prefix: "payouts_", suffix: ".csv") where dateInName(relative) != nil && isDue(relative) {
            guard try isPlausible(relative, source: "stripe") else { continue }
            try timed(relative) { try load(csv: relative, table: Sources.stripePayouts, schema: ods, fileValues: [dateInName(relative)]) }
        }
        let batches = listFiles("gateway/adyen", prefix: "settlement_detail_report_batch_", suffix: ".csv")
            .filter { Self.isBatchName(($0 as NSString).lastPathComponent) }.sorted { (batchNumber($0) ?? .max, $0) < (batchNumber($1) ?? .max, $1) }
        for relative in batches where try isDueBatch(relative) {
            guard try isPlausible(relative, source: "adyen") else { continue }
            try timed(relative) { try load(csv: relative, table: Sources.adyenDetails, schema: ods) }
        }
        for relative in resellerFiles() where isDue(relative) {
            guard try isPlausible(relative, source: "reseller") else { continue }
            try timed(relative) { try loadReseller(relative) }
        }
        try finish(tables: Sources.fileTables.map(\.table))
        report.ignored = ignoredFiles()
        warnIgnored()
        return report
    }

    /// The files part's folders: what in them matches no name of the contract (DATA_CONTRACT.md
    /// section 1), and anything at the top beside `oltp/`, `gateway/`, `resellers/`, `manifest.json`.
    func ignoredFiles() -> [String] {
        let top = unmatched(in: "") { ["oltp", "gateway", "resellers", "manifest.json"].contains($0) }
        var found = top
        for gateway in ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/gateway")) ?? []).sorted() {
            switch gateway {
            case "stripe":
                found += unmatched(in: "gateway/stripe") { name in
                    ["payout_reconciliation_", "payouts_"].contains { name.hasPrefix($0) } && name.hasSuffix(".csv")
                        && dateInName("gateway/stripe/" + name) != nil
                }
            case "adyen":
                found += unmatched(in: "gateway/adyen", Self.isBatchName)
            default:
                found.append("gateway/" + gateway)
            }
        }
        for day in ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/resellers")) ?? []).sorted() {
            guard CalendarDate(day) != nil else { found.append("resellers/" + day); continue }
            found += unmatched(in: "resellers/" + day) { $0.hasSuffix(".xml") || $0.hasSuffix(".csv") }
        }
        return found
    }

    /// `settlement_detail_report_batch_<digits>.csv` (a number too large to be one is a rejected
    /// file, recorded as such, not an ignored one).
    static func isBatchName(_ name: String) -> Bool {
        let prefix = "settlement_detail_report_batch_"
        guard name.hasPrefix(prefix), name.hasSuffix(".csv") else { return false }
        let digits = name.dropFirst(prefix.count).dropLast(4)
        return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
    }

    /// The entries of `folder` (relative; "" for the dataset's top) that `matches` rejects.
    func unmatched(in folder: String, _ matches: (String) -> Bool) -> [String] {
        let path = folder.isEmpty ? directory : directory + "/" + folder
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            .filter { !$0.hasPrefix(".") && !matches($0) }.map { folder.isEmpty ? $0 : folder + "/" + $0 }
    }

    func warnIgnored() {
        for file in report.ignored {
            logger.warning("\(file): its name matches no file of DATA_CONTRACT.md section 1: not loaded")
        }
    }

    /// Records the part's file loads and refreshes the statistics of its tables: the models read
    /// them next, and a planner guessing on millions of new rows picks poor joins.
    func finish(tables: [String]) throws {
        try recordFileLoads()
        if !resellerFileRows.isEmpty {
            try connection.copyIn(Sources.resellerFiles.copySQL(schema: ods)) { writer in
                for row in resellerFileRows { try writer.writeRow(row) }
            }
        }
        for table in tables {
            try connection.execute("ANALYZE \(schema: ods, table: table)")
        }
        for (source, entry) in report.totals.sorted(by: { $0.key < $1.key }) {
            logger.info("loaded \(source): \(entry.files) files, \(entry.read) read = \(entry.loaded) loaded + \(entry.rejected) rejected")
        }
    }

    /// A daily file (by the date in its name or folder) is due once its business day has ended.
    func isDue(_ relative: String) -> Bool {
        guard let window, let day = day(of: relative) else { return true }
        return day < window.filesDueBefore
    }

    /// The day a daily file reports: the date in its name (Stripe) or its folder (resellers).
    func day(of relative: String) -> CalendarDate? {
        let folder = (relative as NSString).deletingLastPathComponent
        return dateInName(relative).flatMap(CalendarDate.init) ?? CalendarDate((folder as NSString).lastPathComponent)
    }

    /// A daily file named for a day outside the plausible event window is rejected whole (one
    /// reject says why): its day would stretch the calendar of expected files across the years.
    /// An Adyen batch number past 18 digits is rejected the same way (no bigint holds it).
    func isPlausible(_ relative: String, source: String) throws -> Bool {
        let reason: String
        if source == "adyen" {
            guard batchNumber(relative) == nil else { return true }
            reason = "the batch number in the file's name is not a number of at most 18 digits: not loaded"
        } else {
            guard let day = day(of: relative), !fields.window.contains(day.midnightUTC) else { return true }
            reason = "the file is dated \(day), outside the plausible event window \(fields.window): not loaded"
        }
        let sha = try SHA256.digest(ofFile: directory + "/" + relative).hex
        try storeRejects([Reject(line: 1, raw: "", reason: reason)], source: source, file: relative)
        report.files.append(FileLoad(
            source: source, file: relative, sha256: sha, rowsRead: 1, rowsLoaded: 0, rowsRejected: 1, status: .rejected,
            duplicateOf: nil))
        logger.warning("\(relative): \(reason)")
        return false
    }

    /// An Adyen batch is due once the day of its latest record has ended. A batch loaded before
    /// and unchanged since (by its stamp) was due then: it is not read again to find its days; nor
    /// is one read before and found not due, while its stamp holds (the day's open batch: at
    /// 10,000,000 orders a month, several MB read every hour).
    func isDueBatch(_ relative: String) throws -> Bool {
        guard let window else { return true }
        let stamp = FileStamp(path: directory + "/" + relative)
        if let known = window.hashed[relative], known.stamp == stamp { return true }
        if let known = window.batchDays[relative], known.stamp == stamp { return known.day < window.filesDueBefore }
        let reader = try CSVReader(path: directory + "/" + relative, shownAs: relative)
        var record = CSVRecord()
        guard try reader.next(into: &record) else { return true }
        guard let column = (0..<record.count).first(where: { record.string($0).trimmingCharacters(in: .whitespaces) == "Creation Date" })
        else { return true }
        var latest = ""
        while try reader.next(into: &record) {
            guard record.framingProblem == nil, column < record.count else { continue }
            let day = String(record.string(column).prefix(10))
            if day > latest { latest = day }
        }
        guard let day = CalendarDate(latest) else { return true }
        if day >= window.filesDueBefore, let stamp { report.batchDays[relative] = (stamp, day) }
        return day < window.filesDueBefore
    }

    /// Runs one file's load (`body`), its stamp taken first (incremental loads), and stamps its
    /// duration on the entry it appended.
    func timed(_ relative: String, _ body: () throws -> Void) throws {
        if window != nil { report.stamps[relative] = FileStamp(path: directory + "/" + relative) }
        let (started, before) = (ContinuousClock.now, report.files.count)
        try body()
        // A file with nothing to do (unchanged since it was loaded) adds no entry.
        if report.files.count > before { report.files[report.files.count - 1].durationMS = milliseconds(since: started) }
    }

    // MARK: - Tables

    func recordFileLoads() throws {
        try connection.copyIn("""
            COPY \(schema: ods, table: "ods_file_loads")
              (source, file, sha256, rows_read, rows_loaded, rows_rejected, status, duplicate_of) FROM STDIN
            """) { writer in
            for file in report.files {
                try writer.writeRow([file.source, file.file, file.sha256, String(file.rowsRead), String(file.rowsLoaded),
                                     String(file.rowsRejected), file.status.rawValue, file.duplicateOf])
            }
        }
    }

    // MARK: - Files

    func listFiles(_ folder: String, prefix: String, suffix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + folder)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }.sorted().map { folder + "/" + $0 }
    }

    func resellerFiles() -> [String] {
        let days = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/resellers")) ?? []).sorted()
            .filter { CalendarDate($0) != nil }
        return days.flatMap { day in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/resellers/" + day)) ?? [])
                .filter { $0.hasSuffix(".xml") || $0.hasSuffix(".csv") }.sorted().map { "resellers/\(day)/\($0)" }
        }
    }

    func dateInName(_ relative: String) -> String? {
        let name = (relative as NSString).lastPathComponent.replacingOccurrences(of: ".csv", with: "")
        return CalendarDate(String(name.suffix(10)))?.description
    }

    /// The batch number in an Adyen file's name; nil when it is not one a bigint holds.
    func batchNumber(_ relative: String) -> Int? {
        let digits = (relative as NSString).lastPathComponent.dropFirst("settlement_detail_report_batch_".count).dropLast(4)
        guard digits.count <= 18, digits.allSatisfy(\.isASCII) else { return nil }
        return Int(digits)
    }

    /// Checks the file's checksum against what was loaded before; records a duplicate and returns
    /// nil, or returns the checksum to load under.
    func checksum(_ relative: String, source: String) throws -> String? {
        if let sha = unchangedSinceHashed(relative) {
            // Nothing to do for a file loaded whole; an extract loaded by period reads its window
            // through the index of that content.
            return window?.knownFiles[relative] == nil ? sha : nil
        }
        let (sha, lineBreaks) = try SHA256.digest(ofFile: directory + "/" + relative)
        guard try isNewVersion(relative, sha: sha) else { return nil }
        return try isDuplicate(relative, source: source, sha: sha, lineBreaks: lineBreaks) ? nil : sha
    }

    /// The checksum of the content hashed before, when the file's stamp (size, inode, change and
    /// modification times) says it has not changed since: it is not read again.
    func unchangedSinceHashed(_ relative: String) -> String? {
        guard let known = window?.hashed[relative], let stamp = report.stamps[relative], known.stamp == stamp else { return nil }
        logger.debug("\(relative): unchanged since it was hashed (size, inode, change and modification times), not read again")
        return known.sha256
    }

    /// False when the file was loaded before under its name with this content (nothing to do);
    /// a changed file replaces what it loaded then.
    func isNewVersion(_ relative: String, sha: String) throws -> Bool {
        guard let known = window?.knownFiles[relative] else { return true }
        if known == sha {
            report.unchanged[relative] = sha
            return false
        }
        report.reloaded.append(relative)
        logger.notice("\(relative) changed since it was loaded: its rows are replaced")
        return true
    }

    /// True, with the duplicate recorded, when another file had this content. A file of one line
    /// (a header, no data) is never a duplicate: two days without activity give identical files,
    /// and each one's arrival counts.
    func isDuplicate(_ relative: String, source: String, sha: String, lineBreaks: Int) throws -> Bool {
        guard lineBreaks > 1 else { return false }
        if let first = seen[sha], first != relative {
            report.files.append(FileLoad(
                source: source, file: relative, sha256: sha, rowsRead: 0, rowsLoaded: 0, rowsRejected: 0,
                status: .duplicate, duplicateOf: first))
            logger.notice("\(relative): same content as \(first), not loaded again")
            return true
        }
        seen[sha] = relative
        return false
    }

    // MARK: - CSV sources

    struct Reject {
        var line: Int
        var raw: String
        var reason: String
    }

    /// Loads one CSV file. With a window, an extract with an `event` column loads only the rows of
    /// the window (the rest are counted as outside it), and lines rejected before are passed over.
    func load(csv relative: String, table: SourceTable, schema: String, into name: String? = nil, fileValues: [String?] = [],
              event: String? = nil) throws {
        let path = directory + "/" + relative
        guard FileManager.default.fileExists(atPath: path) else {
            report.files.append(FileLoad(
                source: table.source, file: relative, sha256: "", rowsRead: 0, rowsLoaded: 0, rowsRejected: 0,
                status: .missing, duplicateOf: nil))
            logger.warning("\(relative) is missing: its table stays empty and the completeness checks will say so")
            return
        }
        let reader = try CSVReader(path: path, shownAs: relative)
        // A file loaded before under its name is read once more to see whether it changed; a new
        // one is hashed while it loads, and taken back out if it repeats another file's content.
        // An extract loaded by period is hashed first: its index (where its rows lie in time)
        // holds only for the content it was taken from.
        let windowed = window != nil && event != nil
        let known = window?.knownFiles[relative] != nil || windowed
        var hashedFirst: String?
        if known {
            guard let sha = try checksum(relative, source: table.source) else { return }
            hashedFirst = sha
        }
        let indexSHA = windowed ? hashedFirst : nil
        func checksumAfterReading() throws -> String? {
            if let hashedFirst { return hashedFirst }
            let (sha, lineBreaks) = try reader.digest()
            guard try isDuplicate(relative, source: table.source, sha: sha, lineBreaks: lineBreaks) else { return sha }
            try connection.execute("DELETE FROM \(schema: schema, table: name ?? table.table) WHERE _source_file = \(relative)")
            try connection.execute("DELETE FROM \(schema: ods, table: "ods_rejects") WHERE file = \(relative)")
            return nil
        }
        if fields.zones.isEmpty, table.columns.contains(where: { if case .timeZone = $0.type { true } else { false } }) {
            fields.zones = try FieldCheck.zones(on: connection)
        }
        var record = CSVRecord()
        guard try reader.next(into: &record) else {
            guard let sha = try checksumAfterReading() else { return }
            try rejectEmpty(relative, source: table.source, sha256: sha)
            return
        }
        let header = (0..<record.count).map { record.string($0).trimmingCharacters(in: .whitespaces) }
        let positions = try table.columns.map { column in
            let matches = header.indices.filter { header[$0] == column.header || Sources.snakeCase(header[$0]) == column.name }
            guard let index = matches.first else {
                throw InputError(file: relative, line: 1, column: column.header, message: "required column is missing")
            }
            guard matches.count == 1 else {
                throw InputError(file: relative, line: 1, column: column.header, message: """
                    the header names this column \(matches.count) times (columns \(matches.map { String($0 + 1) }.joined(separator: ", "))): \
                    which one to load is not known
                    """)
            }
            return index
        }
        var read = 0
        var loaded = 0
        var rejected = 0
        var outside = 0
        var finished = false
        let rejectedBefore = window?.rejectedLines[relative] ?? []
        let eventSlot = window == nil ? nil : event.flatMap { name in table.columns.firstIndex { column in column.name == name } }
        let from = event == nil ? nil : window?.from[table.table]
        let until = window?.until ?? .distantFuture
        let copy = table.copySQL(schema: schema, into: name)
        // A local copy: the loop reads it for every field, and a class's stored property pays an exclusivity check per access.
        let fields = self.fields
        let fileBytes = fileValues.map { $0.map { Array($0.utf8) } }
        // With an index of this content, only the blocks whose times meet the window are read;
        // without one, the file is read whole and indexed.
        let stored = indexSHA.flatMap { sha in window?.extractIndexes[relative].flatMap { $0.sha256 == sha ? $0 : nil } }
        var blocks = stored?.blocks(from: from, until: until)[...] ?? []
        var blockEnd = stored == nil ? Int.max : 0
        var builder = stored == nil
            ? indexSHA.map { ExtractIndex.Builder(sha256: $0, fileBytes: (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) }
            : nil
        func nextRecord() throws -> Bool {
            while true {
                if try reader.next(into: &record), record.offset < blockEnd { return true }
                guard let block = blocks.popFirst() else { return false }
                try reader.seek(to: block.offset, line: block.line, length: block.end == .max ? nil : block.end - block.offset)
                blockEnd = block.end
            }
        }
        while !finished {
            var rejects: [Reject] = []
            loaded += try connection.copyIn(copy) { writer in
                let lineage = [Array(relative.utf8)]
                while rejects.count < Loader.rejectBatch {
                    guard try nextRecord() else {
                        finished = true
                        return
                    }
                    var instant: Date?
                    var eventField: ArraySlice<UInt8>?
                    if let eventSlot, record.framingProblem == nil, record.count == header.count {
                        eventField = record.field(positions[eventSlot])
                        instant = eventField!.isEmpty ? nil : TimestampParser.parse(utf8: eventField!)
                    }
                    builder?.add(offset: record.offset, line: record.line, event: instant)
                    if !rejectedBefore.isEmpty && rejectedBefore.contains(record.line) { continue }
                    if let problem = record.framingProblem {
                        read += 1
                        rejects.append(Reject(line: record.line, raw: Loader.printable(record.rawBytes), reason: problem))
                        continue
                    }
                    if let eventSlot, let eventField {
                        if eventField.isEmpty {
                            read += 1
                            rejects.append(Reject(line: record.line, raw: record.rawText,
                                                  reason: "no \(table.columns[eventSlot].name): the row cannot be placed in a period"))
                            continue
                        }
                        if let instant, instant >= until || from.map({ instant < $0 }) == true {
                            outside += 1
                            continue
                        }
                    }
                    read += 1
                    if !record.plain, let reason = Loader.encodingProblem(record.rawBytes) {
                        rejects.append(Reject(line: record.line, raw: Loader.printable(record.rawBytes), reason: reason))
                        continue
                    }
                    guard record.count == header.count else {
                        rejects.append(Reject(
                            line: record.line, raw: record.rawText,
                            reason: "wrong column count: expected \(header.count), got \(record.count)"))
                        continue
                    }
                    // Fields go straight into COPY's buffer; a bad one takes the half-written row back out.
                    let mark = writer.rowMark
                    var failure: String?
                    for (slot, column) in table.columns.enumerated() {
                        let field = record.field(positions[slot])
                        switch fields.check(field, as: column.type, column: column.name, event: column.isEvent) {
                        case .pass(let suffix):
                            if record.plain { writer.writePlainField(field, first: slot == 0) } else { writer.writeField(field, first: slot == 0) }
                            if !suffix.isEmpty { writer.writeField(suffix, first: true) }
                        case .null:
                            writer.writeNull(first: slot == 0)
                        case .reject(let reason):
                            failure = reason
                        }
                        if failure != nil { break }
                    }
                    if let failure {
                        writer.discardRow(from: mark)
                        rejects.append(Reject(line: record.line, raw: record.rawText, reason: failure))
                        continue
                    }
                    for value in fileBytes {
                        if let value { writer.writeField(value, first: false) } else { writer.writeNull(first: false) }
                    }
                    writer.writeField(lineage[0], first: false)
                    writer.writeField(integer: record.line, first: false)
                    try writer.endRow()
                }
            }
            rejected += rejects.count
            try storeRejects(rejects, source: table.source, file: relative)
        }
        guard let sha = try checksumAfterReading() else { return }
        if var builder { report.extractIndexes[relative] = builder.finish() }
        report.files.append(FileLoad(
            source: table.source, file: relative, sha256: sha, rowsRead: read, rowsLoaded: loaded, rowsRejected: rejected,
            status: .loaded, duplicateOf: nil))
        logger.debug("\(relative): \(read) read, \(loaded) loaded, \(rejected) rejected, \(outside) outside the window")
    }

    /// A file with no header row (no bytes, or blank lines only): one reject says so, and its
    /// source's completeness checks fail on it, since nothing was loaded.
    func rejectEmpty(_ relative: String, source: String, sha256: String) throws {
        try storeRejects([Reject(line: 1, raw: "", reason: Loader.emptyFileReason)], source: source, file: relative)
        report.files.append(FileLoad(
            source: source, file: relative, sha256: sha256, rowsRead: 1, rowsLoaded: 0, rowsRejected: 1, status: .empty,
            duplicateOf: nil))
        logger.warning("\(relative) is empty: rejected (a header row is required)")
    }

    static let emptyFileReason = "the file is empty: a header row is required"

    func storeRejects(_ rejects: [Reject], source: String, file: String) throws {
        guard !rejects.isEmpty else { return }
        try connection.copyIn("COPY \(schema: ods, table: "ods_rejects") (source, file, line, raw_record, reason) FROM STDIN") {
            writer in
            for reject in rejects {
                try writer.writeRow([source, file, String(reject.line), reject.raw, reject.reason])
            }
        }
    }

    /// Invalid UTF-8 or a NUL byte: PostgreSQL text cannot hold the record as it is.
    static func encodingProblem(_ raw: [UInt8]) -> String? {
        var high = false
        for byte in raw {
            if byte == 0 { return "bad encoding: NUL byte in the record" }
            if byte >= 0x80 { high = true }
        }
        if high && String(validating: raw, as: UTF8.self) == nil { return "bad encoding: not valid UTF-8" }
        return nil
    }

    /// The record as text a reject row can hold (invalid bytes and NULs become U+FFFD).
    static func printable(_ raw: [UInt8]) -> String {
        String(decoding: raw.map { $0 == 0 ? 0x3F : $0 }, as: UTF8.self)
    }
}

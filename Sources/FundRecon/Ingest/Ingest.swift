import Foundation
import Logging
import Postgres

/// Loads a dataset directory (DATA_CONTRACT.md section 1) into a run's `oltp` and `ods` schemas.
///
/// OLTP extracts go by COPY into the `oltp` schema and are then copied into `ods_*`; reseller,
/// Stripe and Adyen files are parsed and loaded into `ods_*` directly. Every row carries
/// `_source_file`, `_source_line` and `_loaded_at`; a record that cannot be parsed goes to
/// `ods_rejects` with its file, line, raw text and reason while the rest of the file loads; each
/// file's counts go to `ods_file_loads`, and a file whose SHA-256 was loaded before is skipped.
public enum Ingest {
    /// Loads everything; throws `InputError` (exit 2) for a file that cannot be read as its kind
    /// at all, such as an extract missing a required column.
    public static func load(
        dataset directory: String, schemas: RunSchemas, connection: Connection, logger: Logger
    ) throws -> LoadReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory + "/oltp", isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw InputError(file: directory, message: "not a dataset directory: it has no oltp/ folder (see DATA_CONTRACT.md)")
        }
        let loader = try Loader(directory: directory, schemas: schemas, connection: connection, logger: logger)
        return try loader.run()
    }
}

final class Loader {
    let directory: String
    let schemas: RunSchemas
    let connection: Connection
    let logger: Logger
    var report = LoadReport()
    var seen: [String: String] = [:]
    var ods: String { schemas.name(.ods) }

    /// Rejects are flushed (and a new COPY begun) every this many, so a bad file cannot fill memory.
    static let rejectBatch = 10_000

    init(directory: String, schemas: RunSchemas, connection: Connection, logger: Logger) throws {
        self.directory = directory
        self.schemas = schemas
        self.connection = connection
        self.logger = logger
    }

    func run() throws -> LoadReport {
        try createTables()
        for (file, table) in Sources.extracts {
            try timed { try load(csv: "oltp/" + file, table: table, schema: schemas.name(.oltp)) }
        }
        try connection.transaction { connection in
            for (_, table) in Sources.extracts {
                try connection.execute("""
                    CREATE TABLE \(schema: ods, table: "ods_" + table.table) AS
                    SELECT * FROM \(schema: schemas.name(.oltp), table: table.table)
                    """)
            }
        }
        for relative in listFiles("gateway/stripe", prefix: "payout_reconciliation_", suffix: ".csv") {
            try timed { try load(csv: relative, table: Sources.stripeTransactions, schema: ods, fileValues: [dateInName(relative)]) }
        }
        for relative in listFiles("gateway/stripe", prefix: "payouts_", suffix: ".csv") {
            try timed { try load(csv: relative, table: Sources.stripePayouts, schema: ods, fileValues: [dateInName(relative)]) }
        }
        let batches = listFiles("gateway/adyen", prefix: "settlement_detail_report_batch_", suffix: ".csv")
            .sorted { batchNumber($0) < batchNumber($1) }
        for relative in batches {
            try timed { try load(csv: relative, table: Sources.adyenDetails, schema: ods) }
        }
        for relative in resellerFiles() {
            try timed { try loadReseller(relative) }
        }
        try recordFileLoads()
        // Fresh statistics: the models read these tables next, and a planner guessing on millions
        // of new rows picks poor joins.
        for (_, table) in Sources.extracts {
            try connection.execute(SQL("ANALYZE " + quoteIdentifier(ods) + "." + quoteIdentifier("ods_" + table.table)))
        }
        for table in Sources.fileTables {
            try connection.execute(SQL("ANALYZE " + quoteIdentifier(ods) + "." + quoteIdentifier(table.table)))
        }
        for (source, entry) in report.totals.sorted(by: { $0.key < $1.key }) {
            logger.info("loaded \(source): \(entry.files) files, \(entry.read) read = \(entry.loaded) loaded + \(entry.rejected) rejected")
        }
        return report
    }

    /// Runs one file's load and stamps its duration on the entry it appended.
    func timed(_ body: () throws -> Void) throws {
        let started = ContinuousClock.now
        try body()
        if !report.files.isEmpty { report.files[report.files.count - 1].durationMS = milliseconds(since: started) }
    }

    // MARK: - Tables

    func createTables() throws {
        try connection.transaction { connection in
            for (_, table) in Sources.extracts {
                try connection.executeScript(table.createSQL(schema: schemas.name(.oltp)))
            }
            for table in Sources.fileTables {
                try connection.executeScript(table.createSQL(schema: ods))
            }
            try connection.execute("""
                CREATE TABLE \(schema: ods, table: "ods_rejects") (
                  source text NOT NULL, file text NOT NULL, line integer NOT NULL, raw_record text NOT NULL,
                  reason text NOT NULL, _loaded_at timestamptz NOT NULL DEFAULT now())
                """)
            try connection.execute("""
                CREATE TABLE \(schema: ods, table: "ods_file_loads") (
                  source text NOT NULL, file text NOT NULL, sha256 text NOT NULL, rows_read integer NOT NULL,
                  rows_loaded integer NOT NULL, rows_rejected integer NOT NULL, status text NOT NULL,
                  duplicate_of text, _loaded_at timestamptz NOT NULL DEFAULT now())
                """)
        }
    }

    func recordFileLoads() throws {
        try connection.copyIn("""
            COPY \(schema: ods, table: "ods_file_loads")
              (source, file, sha256, rows_read, rows_loaded, rows_rejected, status, duplicate_of) FROM STDIN
            """) { writer in
            for file in report.files {
                try writer.writeRow([file.source, file.file, file.sha256, String(file.rowsRead), String(file.rowsLoaded),
                                     String(file.rowsRejected), file.status, file.duplicateOf])
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
        return days.flatMap { day in
            ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/resellers/" + day)) ?? [])
                .filter { $0.hasSuffix(".xml") || $0.hasSuffix(".csv") }.sorted().map { "resellers/\(day)/\($0)" }
        }
    }

    func dateInName(_ relative: String) -> String? {
        let name = (relative as NSString).lastPathComponent.replacingOccurrences(of: ".csv", with: "")
        return CalendarDate(String(name.suffix(10)))?.description
    }

    func batchNumber(_ relative: String) -> Int {
        Int((relative as NSString).lastPathComponent.dropFirst("settlement_detail_report_batch_".count).dropLast(4)) ?? 0
    }

    /// Checks the file's checksum against what was loaded before; records a duplicate and returns
    /// nil, or returns the checksum to load under. A file of one line (a header, no data) is never
    /// a duplicate: two days without activity give identical files, and each one's arrival counts.
    func checksum(_ relative: String, source: String) throws -> String? {
        let (sha, lineBreaks) = try SHA256.digest(ofFile: directory + "/" + relative)
        if lineBreaks > 1, let first = seen[sha] {
            report.files.append(FileLoad(
                source: source, file: relative, sha256: sha, rowsRead: 0, rowsLoaded: 0, rowsRejected: 0,
                status: "duplicate", duplicateOf: first))
            logger.notice("\(relative): same content as \(first), not loaded again")
            return nil
        }
        if lineBreaks > 1 { seen[sha] = relative }
        return sha
    }

    // MARK: - CSV sources

    struct Reject {
        var line: Int
        var raw: String
        var reason: String
    }

    func load(csv relative: String, table: SourceTable, schema: String, fileValues: [String?] = []) throws {
        let path = directory + "/" + relative
        guard FileManager.default.fileExists(atPath: path) else {
            report.files.append(FileLoad(
                source: table.source, file: relative, sha256: "", rowsRead: 0, rowsLoaded: 0, rowsRejected: 0,
                status: "missing", duplicateOf: nil))
            logger.warning("\(relative) is missing: its table stays empty and the completeness checks will say so")
            return
        }
        guard let sha = try checksum(relative, source: table.source) else { return }
        let reader = try CSVReader(path: path)
        var record = CSVRecord()
        guard reader.next(into: &record) else {
            throw InputError(file: relative, line: 1, message: "the file is empty: a header row is required")
        }
        let header = (0..<record.count).map { record.string($0).trimmingCharacters(in: .whitespaces) }
        var positions: [Int] = []
        for column in table.columns {
            guard let index = header.firstIndex(where: { $0 == column.header || Sources.snakeCase($0) == column.name })
            else {
                throw InputError(file: relative, line: 1, column: column.header, message: "required column is missing")
            }
            positions.append(index)
        }
        var read = 0
        var loaded = 0
        var rejected = 0
        var finished = false
        let copy = SQL(table.copySQL(schema: schema))
        let fileBytes = fileValues.map { $0.map { Array($0.utf8) } }
        while !finished {
            var rejects: [Reject] = []
            loaded += try connection.copyIn(copy) { writer in
                let lineage = [Array(relative.utf8)]
                while rejects.count < Loader.rejectBatch {
                    guard reader.next(into: &record) else {
                        finished = true
                        return
                    }
                    read += 1
                    if let reason = Loader.encodingProblem(record.rawBytes) {
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
                        switch FieldCheck.check(field, as: column.type, column: column.name) {
                        case .pass(let suffix):
                            writer.writeField(field, first: slot == 0)
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
        report.files.append(FileLoad(
            source: table.source, file: relative, sha256: sha, rowsRead: read, rowsLoaded: loaded, rowsRejected: rejected,
            status: "loaded", duplicateOf: nil))
        logger.debug("\(relative): \(read) read, \(loaded) loaded, \(rejected) rejected")
    }

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

import Foundation
import Logging
import Postgres

/// One `recon run`: a period of a persistent warehouse (`<prefix>_oltp` ... `<prefix>_ads`).
public struct PersistentRunOptions: Sendable {
    public var target: ConnectionTarget
    public var displayName: String
    /// The warehouse's schema prefix.
    public var prefix: String
    public var period: Period
    /// The landing folder (DATA_CONTRACT.md layout); needed when an import task runs.
    public var dataDirectory: String?
    public var expectationsPath: String
    public var reportsDirectory: String
    public var pipelineDirectory: String
    public var vars: [String: String] = [:]
    public var tags: Set<String> = []
    public var checkTimeoutMilliseconds = 60_000
    public var formats: Set<ReportFormat> = Set(ReportFormat.allCases)
    /// The tasks to run (nil: all); an Airflow DAG runs its own tasks only.
    public var tasks: Set<String>?
    /// When another run holds the prefix: wait for it (up to `lockWaitSeconds`) or stop at once.
    public var waitForLock = true
    public var lockWaitSeconds = 3600
    /// Build even when nothing the build reads changed since the last one.
    public var rebuild = false
    /// The instant freshness is judged against (default: the end of the period).
    public var asOf: Date?

    public init(target: ConnectionTarget, displayName: String, prefix: String, period: Period, expectationsPath: String,
                reportsDirectory: String, pipelineDirectory: String) {
        self.target = target
        self.displayName = displayName
        self.prefix = prefix
        self.period = period
        self.expectationsPath = expectationsPath
        self.reportsDirectory = reportsDirectory
        self.pipelineDirectory = pipelineDirectory
    }
}

/// Loads what is new for a period, rebuilds and publishes the changed partitions, evaluates the
/// checks scoped to the period, and records it all in `recon_meta`.
///
/// Crash safety: each import commits its rows together with its watermark and file checksums;
/// each build task builds into the run's staging schemas and publishes in the same transaction.
/// A run killed at any point leaves every table as a committed step left it, and the next run
/// rebuilds from whatever was committed: no period is half-published and no row is loaded twice.
public enum WarehouseRunner {
    /// The advisory-lock key space of persistent prefixes (the second key is `hashtext(prefix)`).
    public static let prefixLockSpace: Int32 = 0x5244

    /// A valid prefix: lower-case letters, digits and `_`, a letter first, short enough for `_oltp`.
    public static func validate(prefix: String) throws {
        let bytes = Array(prefix.utf8)
        let ok = !bytes.isEmpty && bytes.count <= 40 && (bytes[0] >= 97 && bytes[0] <= 122)
            && bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
        guard ok, !prefix.hasPrefix("rc_"), prefix != "recon_meta" else {
            throw InputError(file: "--schema-prefix", message: "'\(prefix)' must be 1-40 lower-case letters, digits or _, a letter first, not rc_... or recon_meta")
        }
    }

    public static func run(
        _ options: PersistentRunOptions, interrupts: Interrupts?, logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) throws -> AuditResult {
        let started = Date()
        try validate(prefix: options.prefix)
        let expectations = try ExpectationsParser.parse(file: options.expectationsPath)
        let project = try PipelineProject.load(directory: options.pipelineDirectory)
        let models = try project.orderedModels()
        let selected = options.tasks ?? Set(TaskName.all)
        for name in selected where !TaskName.all.contains(name) {
            throw InputError(file: "--tasks", message: "unknown task '\(name)' (\(TaskName.all.joined(separator: ", ")))")
        }
        if options.dataDirectory == nil && !selected.isDisjoint(with: [TaskName.importMain, TaskName.importResellers]) {
            throw InputError(file: "--data", message: "the import tasks need the landing folder: give --data DIR (or --tasks without them)")
        }
        let zone = options.vars["business_timezone"] ?? project.vars["business_timezone"] ?? "UTC"
        let period = options.period
        let persistent = RunSchemas(prefix: options.prefix)

        let main = try ConnectionProblem.connect(options.target, applicationName: "recon-run-\(options.prefix)")
        try RunHistory.ensure(on: main)
        try lock(prefix: options.prefix, options: options, connection: main, progress: progress)
        defer { _ = try? main.execute("SELECT pg_advisory_unlock(\(prefixLockSpace), hashtext(\(options.prefix)))") }

        let staging = try WarehouseRun(on: options.target, interrupts: interrupts, logger: logger)
        defer { try? staging.close() }
        let runID = staging.runID.rawValue
        let stagingSchemas = staging.schemas
        let crashed = try RunHistory.markCrashed(prefix: options.prefix, except: runID, on: main)
        if !crashed.isEmpty {
            progress("earlier runs ended without finishing (\(crashed.joined(separator: ", "))): this run rebuilds from what they committed")
            // Their staging schemas are theirs alone (kept schemas of other runs are left to `recon gc`).
            for id in crashed.compactMap(RunID.init) {
                try WarehouseRun.drop(schemas: RunSchemas(runID: id).all, on: main)
            }
        }
        let (start, end) = try period.instants(zone: zone, connection: main)
        let expectationsSHA256 = (try? SHA256.digest(ofFile: options.expectationsPath).hex) ?? ""
        try RunHistory.start(RunHistory.RunStart(
            runID: runID, kind: "run", prefix: options.prefix, grain: period.grain.rawValue, period: period.description,
            periodStart: start, periodEnd: end, database: options.displayName, expectationsSHA256: expectationsSHA256), on: main)
        progress("run \(runID): \(options.prefix) \(period.grain.rawValue) \(period) on \(options.displayName)")
        // Stopped by SIGINT/SIGTERM, the run says so in its history (its staging goes with the run's own cleanup).
        let target = options.target
        let mark = interrupts?.register {
            guard let connection = try? Connection(target, applicationName: "recon-cleanup") else { return }
            _ = try? connection.execute("""
                UPDATE recon_meta.runs SET status = 'interrupted', finished_at = now(), error = 'stopped by a signal'
                WHERE run_id = \(runID) AND status = 'running'
                """)
        }
        defer { if let mark { interrupts?.remove(mark) } }

        // Gateway files of a day are in once the day has ended: captures whose settlement window
        // runs past the last such day are pending, not missing. The warehouse holds everything
        // loaded so far, so a replay of an older period judges by the latest load, not its own end
        // (and leaves the tables as they are).
        var vars = options.vars
        if vars["files_complete_through"] == nil, project.vars["files_complete_through"] != nil {
            let loaded = try main.query("""
                SELECT (max(loaded_until) AT TIME ZONE \(zone))::date FROM recon_meta.watermarks WHERE schema_prefix = \(options.prefix)
                """).scalar(CalendarDate?.self)
            vars["files_complete_through"] = max(period.filesDueBefore, loaded ?? period.filesDueBefore).adding(days: -1).description
        }
        let runner = try PipelineRunner(project: project, schemas: staging.schemas, overrides: vars, readSchemas: persistent)
        let publisher = Publisher(staging: staging.schemas, target: persistent, prefix: options.prefix, runID: runID, logger: logger)
        let tables = models.filter { $0.config.materialized == "table" }
            .map { Publisher.Table(name: $0.name, layer: $0.layer, partitionBy: $0.config.partitionBy, restatements: $0.config.restatements) }
        let seeds = project.seeds.map { Publisher.Table(name: $0.name, layer: .ods, partitionBy: nil) }
        let changes = Shared<[PartitionChange]>([])
        let rowsLoaded = Shared(0)
        let results = Shared<[CheckResult]>([])
        let finished = Shared<[TaskRecord]>([])
        let result = Shared<AuditResult?>(nil)
        let merger = ImportMerger(staging: staging.schemas, persistent: persistent, prefix: options.prefix, runID: runID)

        var tasks: [RunTask] = []
        func task(_ name: String, _ body: @escaping @Sendable (TaskContext) throws -> Int) {
            guard selected.contains(name) else { return }
            tasks.append(RunTask(name, after: TaskName.dependencies(of: name, among: selected), body: body))
        }
        // The staging tables every later task needs exist whatever the selection, and so does the
        // warehouse: made by its own task, or here when a selection (an Airflow task) leaves it out.
        try Ingest.prepare(schemas: staging.schemas, connection: staging.connection)
        if !selected.contains(TaskName.initialize) { try merger.createWarehouse(on: main) }
        task(TaskName.initialize) { context in
            try context.inTransaction { connection in
                try merger.createWarehouse(on: connection)
                return 0
            }
        }
        for (name, part) in [(TaskName.importMain, IngestPart.extracts), (TaskName.importResellers, .files)] {
            task(name) { context in
                try context.inTransaction { connection in
                    let window = try merger.window(part: part, until: end, filesDueBefore: period.filesDueBefore, on: connection)
                    let report = try Ingest.load(dataset: options.dataDirectory ?? "", part: part, schemas: stagingSchemas,
                                                 connection: connection, logger: context.logger, window: window)
                    try merger.merge(part: part, report: report, until: end, on: connection)
                    let rows = report.files.reduce(0) { $0 + $1.rowsLoaded }
                    rowsLoaded.update { $0 += rows }
                    if !report.reloaded.isEmpty { progress("\(name): replaced the rows of changed files \(report.reloaded.joined(separator: ", "))") }
                    return rows
                }
            }
        }
        let layerSets: [(String, Set<Layer>, Bool, [Publisher.Table])] = [
            (TaskName.dbtInit, [.oltp, .ods], true, seeds + tables.filter { $0.layer == .ods || $0.layer == .oltp }),
            (TaskName.dbtModel, [.dwd, .dws, .ads], false, tables.filter { [.dwd, .dws, .ads].contains($0.layer) }),
        ]
        let pipelineDigest = try BuildInputs.digest(ofDirectory: options.pipelineDirectory)
        let buildFingerprint = Shared<String?>(nil)
        for (name, layers, withSeeds, published) in layerSets {
            task(name) { context in
                let connection = try context.connect()
                let inputs = BuildInputs(prefix: options.prefix, task: name, persistent: persistent)
                let fingerprint = try buildFingerprint.value
                    ?? BuildInputs.fingerprint(persistent: persistent, pipeline: pipelineDigest, vars: runner.vars, on: connection)
                buildFingerprint.value = fingerprint
                if !options.rebuild, let last = try inputs.lastBuild(matching: fingerprint, tables: published, on: connection) {
                    progress("\(name): up to date (nothing it reads changed since run \(last)); --rebuild builds anyway")
                    return 0
                }
                return try context.inTransaction(on: connection) { connection in
                    let report = try runner.build(on: connection, logger: context.logger, layers: layers, seeds: withSeeds)
                    let changed = try publisher.publish(published, closedBefore: period.day, on: connection)
                    try inputs.record(fingerprint, runID: runID, on: connection)
                    changes.update { $0 += changed }
                    return report.models.reduce(0) { $0 + $1.rows }
                }
            }
        }
        task(TaskName.checks) { context in
            let connection = try context.connect()
            let engine = CheckEngine(
                resolver: TableResolver(schemas: persistent, project: project), timeoutMilliseconds: options.checkTimeoutMilliseconds,
                zone: zone, tags: options.tags, asOf: options.asOf ?? end, parallelTarget: options.target, scope: CheckScope(period: period, zone: zone))
            results.value = try engine.evaluate(expectations, connection: connection, logger: context.logger)
            return results.value.count
        }
        task(TaskName.reports) { context in
            let connection = try context.connect()
            let month = period.grain == .month ? period.description : nil
            let needsData = options.formats.contains(.html) || options.formats.contains(.xlsx)
            let data = needsData ? try ReportData.collect(schemas: persistent, connection: connection, zone: zone, month: month) : nil
            var audit = summary(runID: runID, started: started, options: options, checks: results.value, tasks: finished.value,
                                changes: changes.value)
            var report = ReportContext(dataset: (options.dataDirectory ?? "warehouse \(options.prefix)") + ", \(period.grain.rawValue) \(period)",
                                       expectationsSHA256: expectationsSHA256)
            report.title = month.map { "Monthly audit pack \($0)" } ?? "FundRecon run \(options.prefix) \(period)"
            report.month = month
            report.trend = try RunHistory.trend(prefix: options.prefix, on: connection)
            for check in results.value {
                report.trend[check.id, default: []].append(
                    TrendPoint(status: check.status.rawValue, failingRows: check.failingRows, runID: runID, period: period.description))
            }
            report.restatements = audit.restatements ?? []
            audit.finishedAt = isoTimestamp(Date())
            try AuditRunner.write(audit, data: data, context: report, formats: options.formats, to: options.reportsDirectory,
                                  prefix: month.map { "monthly-\($0)" } ?? "recon-report",
                                  breaks: ReportData.breakSource(schemas: persistent, connection: connection, month: month))
            result.value = audit
            return options.formats.count
        }

        let records: [TaskRecord]
        do {
            records = try TaskRunner.forRun(staging.runID, target: options.target)
                .run(tasks, logger: logger, progress: progress, finished: finished)
        } catch let failure as TaskFailure {
            try? RunHistory.finish(runID: runID, status: "error", exitCode: 3, error: "\(failure)", tasks: failure.records,
                                   checks: results.value, rowsLoaded: rowsLoaded.value, restated: 0, on: main)
            throw failure.underlying
        }
        var audit = result.value ?? summary(runID: runID, started: started, options: options, checks: results.value,
                                            tasks: records, changes: changes.value)
        audit.tasks = records
        audit.stages = records.map(StageTiming.init)
        audit.finishedAt = isoTimestamp(Date())
        try AuditRunner.rewriteJSON(audit, formats: options.formats, directory: options.reportsDirectory)
        let code = audit.exitCode(failOn: .error)
        try RunHistory.finish(runID: runID, status: code == 0 ? "succeeded" : "failed", exitCode: code, error: nil, tasks: records,
                              checks: audit.checks, rowsLoaded: rowsLoaded.value, restated: audit.restatements?.count ?? 0, on: main)
        try RunHistory.recordRestatements(audit.restatements ?? [], runID: runID, prefix: options.prefix, on: main)
        for change in audit.restatements ?? [] {
            let money = (change.amounts ?? []).prefix(4).map(\.text).joined(separator: ", ")
            progress("restated \(change.table) \(change.partition): \(change.rowsBefore) -> \(change.rowsAfter) rows"
                + (money.isEmpty ? "" : "; " + money))
        }
        return audit
    }

    static func summary(runID: String, started: Date, options: PersistentRunOptions, checks: [CheckResult], tasks: [TaskRecord],
                        changes: [PartitionChange]) -> AuditResult {
        var audit = AuditResult(
            runID: runID, startedAt: isoTimestamp(started), finishedAt: isoTimestamp(Date()), database: options.displayName,
            summary: CheckSummary(checks), checks: checks, stages: tasks.map(StageTiming.init), expectations: options.expectationsPath)
        audit.tasks = tasks
        audit.period = options.period.description
        audit.restatements = changes.filter(\.restatement)
        audit.partitionsReplaced = changes.count
        return audit
    }

    /// Takes the prefix's session lock, waiting behind a running run (with a line saying whose)
    /// or refusing at once, as asked.
    static func lock(prefix: String, options: PersistentRunOptions, connection: Connection, progress: (String) -> Void) throws {
        let got: Bool = try connection.query("SELECT pg_try_advisory_lock(\(prefixLockSpace), hashtext(\(prefix)))").scalar()
        guard !got else { return }
        let holder = try connection.query("""
            SELECT run_id || ' (pid ' || coalesce(pid::text, '?') || ', ' || coalesce(period, '') || ', started ' ||
                   to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC)'
            FROM recon_meta.runs WHERE schema_prefix = \(prefix) AND status = 'running' ORDER BY started_at DESC LIMIT 1
            """).first.map { try $0.decode(String.self, at: 0) } ?? "another process"
        let busy = "schema prefix \(prefix) is being run by \(holder)"
        guard options.waitForLock else {
            throw ClusterError(cause: busy, fix: "wait for it to finish, or run without --no-wait to queue behind it")
        }
        progress("waiting: \(busy)")
        try connection.execute(SQL("SET lock_timeout = '\(max(1, options.lockWaitSeconds))s'" as String))
        do {
            try connection.execute("SELECT pg_advisory_lock(\(prefixLockSpace), hashtext(\(prefix)))")
        } catch let error as PostgresError where error.sqlState == "55P03" {
            throw ClusterError(cause: busy + " and did not finish within \(options.lockWaitSeconds) s", fix: "raise --lock-wait, or look at that run")
        }
        try connection.execute("RESET lock_timeout")
        progress("the prefix is free: starting")
    }
}

/// What a build task reads, summed up: every source table's row count and latest load time, the
/// pipeline folder's content and the vars. When it equals the last build's, building again would
/// publish nothing: the task says so and skips (a replayed period, a quiet hour).
struct BuildInputs: Sendable {
    let prefix: String
    let task: String
    let persistent: RunSchemas

    /// SHA-256 over every file of the pipeline folder (models, seeds, project), by path.
    static func digest(ofDirectory directory: String) throws -> String {
        var hash = SHA256()
        let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
        for file in files where !file.hasPrefix(".") && !file.contains("/.") && !file.hasPrefix("target") {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            hash.update(Array((file + "=" + (try SHA256.digest(ofFile: directory + "/" + file).hex) + "\n").utf8))
        }
        return hash.finalize()
    }

    /// The same for every build task of a run: the imports, which change it, come before them.
    static func fingerprint(persistent: RunSchemas, pipeline: String, vars: [String: String], on connection: Connection) throws -> String {
        let tables = Ingest.tableDDL(schemas: persistent, withExtractCopies: true).map { $0.table }
        let parts = tables.map { schema, table in
            "SELECT count(*)::text || '@' || coalesce(max(_loaded_at)::text, '') FROM " + quoteIdentifier(schema) + "." + quoteIdentifier(table)
        }
        let counts = try connection.query(SQL(parts.joined(separator: " UNION ALL "))).rows.map { try $0.decode(String.self, at: 0) }
        var hash = SHA256()
        hash.update(Array((pipeline + "|" + vars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            + "|" + counts.joined(separator: ",")).utf8))
        return hash.finalize()
    }

    /// The run that last built from exactly these inputs, when every table it published still exists.
    func lastBuild(matching fingerprint: String, tables: [Publisher.Table], on connection: Connection) throws -> String? {
        guard let run = try connection.query("""
            SELECT run_id FROM recon_meta.build_inputs WHERE schema_prefix = \(prefix) AND task = \(task) AND fingerprint = \(fingerprint)
            """).first.map({ try $0.decode(String.self, at: 0) }) else { return nil }
        for table in tables {
            let relation = quoteIdentifier(persistent.name(table.layer)) + "." + quoteIdentifier(table.name)
            let exists: Bool = try connection.query("SELECT to_regclass(\(relation)) IS NOT NULL").scalar()
            if !exists { return nil }
        }
        return run
    }

    func record(_ fingerprint: String, runID: String, on connection: Connection) throws {
        try connection.execute("""
            INSERT INTO recon_meta.build_inputs (schema_prefix, task, fingerprint, run_id) VALUES (\(prefix), \(task), \(fingerprint), \(runID))
            ON CONFLICT (schema_prefix, task) DO UPDATE SET fingerprint = excluded.fingerprint, run_id = excluded.run_id, built_at = now()
            """)
    }
}

/// Moves what an import loaded into the run's staging schemas into the warehouse, with the
/// watermarks and file checksums, inside the import's transaction.
struct ImportMerger: Sendable {
    let staging: RunSchemas
    let persistent: RunSchemas
    let prefix: String
    let runID: String

    /// The warehouse's schemas and source tables, when missing.
    func createWarehouse(on connection: Connection) throws {
        let present: Int = try connection.query(
            "SELECT count(*) FROM pg_namespace WHERE nspname = ANY(string_to_array(\(persistent.all.joined(separator: ",")), ','))"
        ).scalar()
        let tables = try tablesPresent(connection)
        guard present < persistent.all.count || !tables else { return }
        try connection.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock(\(WarehouseRun.lockSpace), hashtext(\(prefix)))")
            for schema in persistent.all { try connection.execute("CREATE SCHEMA IF NOT EXISTS \(identifier: schema)") }
            for statement in Ingest.tableDDL(schemas: persistent, withExtractCopies: true) {
                let relation = quoteIdentifier(statement.table.0) + "." + quoteIdentifier(statement.table.1)
                let exists: Bool = try connection.query("SELECT to_regclass(\(relation)) IS NOT NULL").scalar()
                if !exists { try connection.executeScript(statement.sql) }
            }
        }
    }

    func tablesPresent(_ connection: Connection) throws -> Bool {
        let relation = quoteIdentifier(persistent.name(.ods)) + ".\"ods_file_loads\""
        return try connection.query("SELECT to_regclass(\(relation)) IS NOT NULL").scalar()
    }

    /// What this import may load: rows after each extract's watermark and before the period's
    /// end, files due by the end of the period that were not loaded before.
    func window(part: IngestPart, until: Date, filesDueBefore: CalendarDate, on connection: Connection) throws -> LoadWindow {
        var window = LoadWindow(until: until, filesDueBefore: filesDueBefore)
        for row in try connection.query("SELECT source, loaded_until FROM recon_meta.watermarks WHERE schema_prefix = \(prefix)").rows {
            window.from[try row.decode(String.self, at: 0)] = try row.decode(Date.self, at: 1)
        }
        let factFiles = Set(Sources.extracts.filter { Ingest.eventColumns[$0.table.table] != nil }.map { "oltp/" + $0.file })
        for row in try connection.query("""
            SELECT file, sha256, status FROM recon_meta.loaded_files WHERE schema_prefix = \(prefix) ORDER BY loaded_at
            """).rows {
            let (file, sha, status) = (try row.decode(String.self, at: 0), try row.decode(String.self, at: 1), try row.decode(String.self, at: 2))
            if !factFiles.contains(file) { window.knownFiles[file] = sha }
            if status != "duplicate" && window.knownContents[sha] == nil { window.knownContents[sha] = file }
        }
        let rejects = quoteIdentifier(persistent.name(.ods)) + ".\"ods_rejects\""
        let sourceFilter = part == .extracts ? "source = 'oltp'" : "source <> 'oltp'"
        for row in try connection.query(SQL("SELECT file, line FROM \(rejects) WHERE \(sourceFilter)" as String)).rows {
            window.rejectedLines[try row.decode(String.self, at: 0), default: []].insert(try row.decode(Int.self, at: 1))
        }
        return window
    }

    /// Appends the new rows, replaces reference data and changed files, and records watermarks and checksums.
    func merge(part: IngestPart, report: LoadReport, until: Date, on connection: Connection) throws {
        let (sOLTP, sODS, pOLTP, pODS) = (staging.name(.oltp), staging.name(.ods), persistent.name(.oltp), persistent.name(.ods))
        func copy(_ fromSchema: String, _ toSchema: String, _ table: String, replace: Bool = false) throws {
            if replace { try connection.execute("DELETE FROM \(schema: toSchema, table: table)") }
            try connection.execute("INSERT INTO \(schema: toSchema, table: table) SELECT * FROM \(schema: fromSchema, table: table)")
        }
        var touched: [(String, String)] = [(pODS, "ods_rejects"), (pODS, "ods_file_loads")]
        switch part {
        case .extracts:
            for (file, table) in Sources.extracts {
                let name = table.table
                if Ingest.eventColumns[name] != nil {
                    try copy(sOLTP, pOLTP, name)
                    try copy(sODS, pODS, "ods_" + name)
                } else if report.files.contains(where: { $0.file == "oltp/" + file && $0.status == "loaded" }) {
                    // Reference data: the extract is the whole table, so a new version replaces it.
                    try copy(sOLTP, pOLTP, name, replace: true)
                    try copy(sODS, pODS, "ods_" + name, replace: true)
                }
                touched += [(pOLTP, name), (pODS, "ods_" + name)]
            }
            for source in Ingest.eventColumns.keys.sorted() {
                try connection.execute("""
                    INSERT INTO recon_meta.watermarks (schema_prefix, source, loaded_until, run_id)
                    VALUES (\(prefix), \(source), \(until), \(runID))
                    ON CONFLICT (schema_prefix, source) DO UPDATE
                      SET loaded_until = greatest(recon_meta.watermarks.loaded_until, excluded.loaded_until), run_id = excluded.run_id
                    """)
            }
        case .files:
            for file in report.reloaded {
                for table in Sources.fileTables {
                    try connection.execute("DELETE FROM \(schema: pODS, table: table.table) WHERE _source_file = \(file)")
                }
                try connection.execute("DELETE FROM \(schema: pODS, table: "ods_rejects") WHERE file = \(file)")
                try connection.execute("DELETE FROM \(schema: pODS, table: "ods_file_loads") WHERE file = \(file)")
            }
            for table in Sources.fileTables {
                try copy(sODS, pODS, table.table)
                touched.append((pODS, table.table))
            }
        }
        let ours = part == .extracts ? "source = 'oltp'" : "source <> 'oltp'"
        let (sRejects, pRejects) = (quoteIdentifier(sODS) + ".ods_rejects", quoteIdentifier(pODS) + ".ods_rejects")
        let (sLoads, pLoads) = (quoteIdentifier(sODS) + ".ods_file_loads", quoteIdentifier(pODS) + ".ods_file_loads")
        try connection.execute(SQL("INSERT INTO \(pRejects) SELECT * FROM \(sRejects) WHERE \(ours)" as String))
        // A missing extract is recorded once, not at every run that finds it still missing; an
        // extract with no rows in this run's window is a quiet hour, not an empty extract.
        try connection.execute(SQL(String("""
            INSERT INTO \(pLoads) SELECT * FROM \(sLoads) s WHERE \(ours)
              AND NOT (s.status = 'missing' AND EXISTS (SELECT 1 FROM \(pLoads) p WHERE p.file = s.file AND p.status = 'missing'))
              AND NOT (s.source = 'oltp' AND s.status = 'loaded' AND s.rows_read = 0)
            """)))
        for file in report.files where file.status != "missing" {
            try connection.execute("""
                INSERT INTO recon_meta.loaded_files (schema_prefix, file, sha256, status, rows_loaded, run_id)
                VALUES (\(prefix), \(file.file), \(file.sha256), \(file.status), \(file.rowsLoaded), \(runID))
                ON CONFLICT (schema_prefix, file) DO UPDATE
                  SET sha256 = excluded.sha256, status = excluded.status, rows_loaded = excluded.rows_loaded,
                      run_id = excluded.run_id, loaded_at = now()
                """)
        }
        for (schema, table) in touched {
            try connection.execute("ANALYZE \(schema: schema, table: table)")
        }
    }
}

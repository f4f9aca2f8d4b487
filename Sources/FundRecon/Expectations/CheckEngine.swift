import Foundation
import Logging
import Postgres

/// Evaluates an expectations file against a database: every table and column is checked against
/// the catalog before anything runs; row-level checks on one table share one scan; a failing-rows
/// query is counted with its own plan and sampled from the same materialized result; each check
/// runs READ ONLY under a statement timeout. The engine knows check types only by their plans.
public struct CheckEngine: Sendable {
    public var resolver: TableResolver
    /// Statement timeout per check.
    public var timeoutMilliseconds = 60_000
    /// The business time zone (hour -> day roll-ups).
    public var businessTimeZone = "UTC"
    /// The instant freshness is measured against.
    public var asOf: Date = Date()
    /// Only checks with one of these tags (all when empty).
    public var tags: Set<String> = []
    /// A scoped run's period: checks with a `period` see only its rows.
    public var scope: CheckScope?
    /// The search_path of checks without a run's schemas (quoted, comma-separated).
    public var defaultSearchPath: String?

    public init(resolver: TableResolver) {
        self.resolver = resolver
    }

    /// Compiles and validates every check; a bad table, column or expression file is an
    /// `ExpectationsError` (exit 2) before any check runs.
    func compileAll(_ file: ExpectationsFile, connection: Connection) throws -> [CompiledCheck] {
        let relations = try tablesRead(by: file).values.map(\.relation.text)
        return try compile(file, catalog: try TableCatalog.load(relations: Set(relations), connection: connection))
    }

    /// The checks the tags select, less those the run's period does not judge (`cadence: day`
    /// in an hour that does not close its day).
    func selected(_ file: ExpectationsFile) -> [CheckSpec] {
        file.checks.filter { tagged($0) && judges($0) }
    }

    /// The checks the tags select that wait for their day's close in this run (`cadence: day`).
    public func waiting(_ file: ExpectationsFile) -> [CheckSpec] {
        file.checks.filter { tagged($0) && !judges($0) }
    }

    private func tagged(_ spec: CheckSpec) -> Bool {
        tags.isEmpty || !tags.isDisjoint(with: spec.tags)
    }

    private func judges(_ spec: CheckSpec) -> Bool {
        spec.cadence == .run || (scope?.closesDay ?? true)
    }

    /// Every table the selected checks read, resolved; an unknown one is an `ExpectationsError`.
    func tablesRead(by file: ExpectationsFile) throws -> [String: (relation: SQL, layer: CheckLayer)] {
        var resolved: [String: (relation: SQL, layer: CheckLayer)] = [:]
        for spec in selected(file) {
            for table in (spec.table.isEmpty ? [] : [spec.table]) + spec.definition.otherTables where resolved[table] == nil {
                guard let found = resolver.resolve(table) else {
                    throw ExpectationsError(file: file.path, line: spec.line, checkID: spec.id, message: "unknown table '\(table)'")
                }
                resolved[table] = found
            }
        }
        return resolved
    }

    /// Compiles the selected checks against the columns of `catalog` (no database is needed).
    func compile(_ file: ExpectationsFile, catalog: TableCatalog) throws -> [CompiledCheck] {
        func fail(_ spec: CheckSpec, _ message: String) -> ExpectationsError {
            ExpectationsError(file: file.path, line: spec.line, checkID: spec.id, message: message)
        }
        let resolved = try tablesRead(by: file)
        return try selected(file).map { spec in
            for (table, names) in spec.definition.columns(table: spec.table) {
                guard let relation = resolved[table]?.relation, let columns = catalog.columns[relation.text] else {
                    throw fail(spec, "table '\(table)' does not exist")
                }
                for name in names where columns[name] == nil {
                    throw fail(spec, "table '\(table)' has no column '\(name)'")
                }
            }
            let own = resolved[spec.table]
            let layer = spec.definition.layer(resolving: resolver) ?? own?.layer ?? .schema("public")
            let rowFilter: SQL = spec.where.map(PlanContext.fragment) ?? "true"
            var inPeriod: SQL? = nil
            if case .byColumn = Swift.type(of: spec.definition).scoping, let scope, let period = spec.period {
                let type = catalog.columns[own?.relation.text ?? ""]?[period.column] ?? "date"
                inPeriod = scope.predicate(on: PlanContext.column(period.column), type: type, grain: period.grain)
            }
            let context = PlanContext(spec: spec, relation: own?.relation ?? "", relations: resolved.mapValues(\.relation),
                                      catalog: catalog, zone: businessTimeZone, scope: scope, rowFilter: rowFilter, inPeriod: inPeriod)
            return CompiledCheck(spec: spec, relation: context.relation, layer: layer, plan: try spec.definition.plan(context),
                                 table: spec.table.isEmpty ? layer.name : spec.table,
                                 checkedTotal: spec.materiality?.relative == nil ? nil : spec.definition.checkedTotal(context))
        }
    }

    /// Evaluates the file on one connection the caller owns.
    public func evaluate(_ file: ExpectationsFile, connection: Connection, logger: Logger) throws -> [CheckResult] {
        try evaluate(file, workers: [CheckWorker(connection)], logger: logger)
    }

    /// Evaluates the file; a check that errors or times out is `error`, and the others still run.
    /// Row-level scans run on the first worker; set-level checks, one statement each, are taken
    /// heaviest first by whichever worker is free (two on one PostgreSQL, one on Citus:
    /// `Orchestrator.checksAtOnce`).
    public func evaluate(_ file: ExpectationsFile, workers: [CheckWorker], logger: Logger) throws -> [CheckResult] {
        let first = workers[0]
        let compiled = try compileAll(file, connection: try first.connection())
        var results: [String: CheckResult] = [:]
        // Set-level checks, one statement each, heaviest first: each connection takes the next
        // when it is free, so a long check does not wait behind a queue dealt out in advance.
        let queue = CheckQueue(Self.heaviestFirst(compiled.filter { if case .rows = $0.plan { return false } else { return true } }))
        let others = ResultBox()
        let group = DispatchGroup()
        if workers.count > 1 {
            let engine = self
            let second = workers[1]
            DispatchQueue.global().async(group: group) {
                while let check = queue.next() { others.add(engine.evaluateSetLevel(check, on: second)) }
            }
        }
        // Row-level checks on the first connection while the second starts on the set-level ones,
        // fused per table and scope: one scan counts every check's failing rows.
        var rowLevel: [String: [RowMember]] = [:]
        for check in compiled {
            guard case .rows(let predicate, let extras, let scope) = check.plan else { continue }
            rowLevel[check.relation.text + "\u{0}" + (scope?.text ?? ""), default: []]
                .append(RowMember(check: check, predicate: predicate, extras: extras, scope: scope))
        }
        for (_, scan) in rowLevel.sorted(by: { $0.key < $1.key }) {
            for result in evaluateRows(scan, on: first) { results[result.id] = result }
        }
        while let check = queue.next() {
            let result = evaluateSetLevel(check, on: first)
            results[result.id] = result
        }
        group.wait()
        for result in others.results { results[result.id] = result }
        // Materiality and waivers judge what failed; a waiver of a check that passed covered nothing.
        let waivers = Dictionary(grouping: file.waivers, by: \.check)
        for check in compiled {
            guard let result = results[check.spec.id] else { continue }
            results[check.spec.id] = judged(check, result, waivers: waivers[check.spec.id] ?? [], on: first)
        }
        for result in results.values where result.status != .pass {
            logger.debug("\(result.id): \(result.status.rawValue), \(result.failingRows) failing rows")
        }
        return compiled.compactMap { results[$0.spec.id] }
    }

    /// A row-level check in a table's scan.
    struct RowMember {
        let check: CompiledCheck
        let predicate: SQL
        let extras: SQL?
        /// In a scoped run, the period's rows, which are all the scan reads.
        let scope: SQL?
    }

    /// The statement counting the failing rows of row-level checks of one table and scope: in a
    /// scoped run it reads only the period's rows (every check of the group keeps only those, and
    /// the period column's index finds them), not the whole table.
    static func rowScan(_ group: [RowMember]) -> SQL {
        let counts = group.enumerated().map { "count(*) FILTER (WHERE \($1.predicate)) AS \(identifier: "c\($0)")" as SQL }
        let scan: SQL = "SELECT \(counts.joined(separator: ", ")) FROM \(group[0].check.relation)"
        return group[0].scope.map { "\(scan) WHERE \($0)" } ?? scan
    }

    /// The row-level checks of one table and scope in one scan; samples only for those that failed.
    /// A scan that fails (one bad expression) is done again check by check, so the bad one alone errors.
    func evaluateRows(_ group: [RowMember], on worker: CheckWorker) -> [CheckResult] {
        let started = ContinuousClock.now
        do {
            let row = try readOnly(worker) { try $0.query(Self.rowScan(group)).first }
            let elapsed = milliseconds(since: started) / max(1, group.count)
            return try group.enumerated().map { index, member in
                try finish(member.check, failing: try row?.decode(at: index) ?? 0, observed: [:], duration: elapsed,
                           sample: rowSample(member.check, member.predicate, member.extras), on: worker)
            }
        } catch {
            return group.map { member in
                let single = ContinuousClock.now
                do {
                    let failing: Int = try readOnly(worker) { try $0.query(Self.rowScan([member])).scalar() }
                    return try finish(member.check, failing: failing, observed: [:], duration: milliseconds(since: single),
                                      sample: rowSample(member.check, member.predicate, member.extras), on: worker)
                } catch {
                    return errored(member.check, error, duration: milliseconds(since: single))
                }
            }
        }
    }

    /// The run's schemas, newest layer first, for the authors' SQL fragments; without a run, the
    /// connecting role's search_path (the checks' reader has a search_path of its own).
    var searchPath: String? {
        resolver.schemas.map { schemas in [Layer.ads, .dws, .dwd, .ods, .oltp].map { schemas.name($0) }.joined(separator: ", ") }
            ?? defaultSearchPath
    }

    /// Runs `body` on the worker's connection in a READ ONLY transaction that is rolled back, with
    /// the statement timeout, UTC, the run's schemas on the search_path and its as_of, all local
    /// to the transaction. Nothing a check does outlives it: what it created or set is rolled
    /// back, and a session advisory lock it took is released before the next check starts.
    func readOnly<T>(_ worker: CheckWorker, wholeTables: Bool = false, candidateKeys: Bool = false,
                     _ body: (Connection) throws -> T) throws -> T {
        try worker.connection().rolledBack { connection in
            try connection.execute("""
                SELECT pg_advisory_unlock_all(),
                       set_config('statement_timeout', \(String(timeoutMilliseconds)), true),
                       set_config('timezone', 'UTC', true), set_config('recon.as_of', \(asOf), true),
                       -- JIT compiles a plan for longer than a mid-sized check runs (fund_recon.yml at 62k
                       -- orders: 938 ms at PostgreSQL's default threshold, 650 ms without JIT), yet pays
                       -- off on the largest statements at a million orders: only those get it.
                       set_config('jit_above_cost', '1000000', true),
                       -- On Citus a check whose sides are not co-located gathers them on the coordinator
                       -- (a reconcile keyed by a column neither side is distributed on, as our
                       -- gateway_alignment_charges was by gateway_txn_ref): bounded by the timeout, not by
                       -- Citus' 1 GB guard, which made such a check an error at 10M orders
                       -- (docs/scale-out.md). A placeholder setting on plain PostgreSQL.
                       set_config('citus.max_intermediate_result_size', '-1', true)
                """)
            if wholeTables {
                // A grouping of whole tables is costed as if only PostgreSQL's own buffers held them,
                // and its sides are joined by merging their sorted groups. Left to itself the planner
                // fed the grouping from the key's index (a buffer read per row where the table does
                // not lie in key order: it counts on the OS cache) and joined the sides by a hash that
                // spilled in 128 batches. gateway_alignment_charges at 10,000,000 orders, one session:
                // 75.5 s so, 45.6 s read sequentially, 39.6 s read sequentially and merged.
                // On Citus the statement runs as shard tasks on the workers' own sessions: SET LOCAL
                // with citus.propagate_set_commands sends the join setting to them too (a
                // placeholder on plain PostgreSQL). order_captures_equal_amount_due at 1,000,000
                // orders on two workers: 10.5-10.7 s with the setting on the coordinator only,
                // 6.8 s on the shards as well.
                try connection.executeScript("""
                    SET LOCAL citus.propagate_set_commands = 'local';
                    SET LOCAL enable_hashjoin = off;
                    SELECT set_config('effective_cache_size', current_setting('shared_buffers'), true)
                    """)
            }
            if candidateKeys {
                // A statement that looks a scoped run's candidate keys up one by one is costed as a
                // page read from disk per lookup, which passes JIT's thresholds for inlining and
                // optimizing: at 1,000,000 orders the day's last hour compiled gateway_alignment_charges
                // for 1.8 s and ran it in 1.1 s. Its reads are lookups, not the long scans JIT speeds.
                try connection.execute("SELECT set_config('jit', 'off', true)")
            }
            if let searchPath { try connection.execute("SELECT set_config('search_path', \(searchPath), true)") }
            return try body(connection)
        }
    }

    /// The statement that counts a failing-rows query and samples it: the query is a MATERIALIZED
    /// CTE, planned as the query alone (no LIMIT reaches into it) and run once; the sample reads
    /// the first rows of its result in the order of their text, so the same data gives the same
    /// sample in every run.
    static func countAndSample(_ query: SQL, count: SQL, sampleSize: Int) -> SQL {
        """
        WITH failing AS MATERIALIZED (
        \(query)
        )
        SELECT (SELECT coalesce(\(count), 0) FROM failing) AS _failing_rows, sample.*
        FROM (SELECT 1) AS one
        LEFT JOIN LATERAL (SELECT * FROM failing f ORDER BY f::text LIMIT \(integer: sampleSize)) AS sample ON true
        """
    }

    /// One set-level check on one connection; whatever goes wrong is the check's `error`.
    func evaluateSetLevel(_ check: CompiledCheck, on worker: CheckWorker) -> CheckResult {
        let started = ContinuousClock.now
        do {
            switch check.plan {
            case .rows:
                return errored(check, nil, duration: 0)
            case .grouped(let plan):
                switch plan.output {
                case .classified(let columns, let scopedPairs, _):
                    let rows = try readOnly(worker, wholeTables: plan.readsWholeTables, candidateKeys: plan.readsCandidateKeys) {
                        try $0.query(plan.alone)
                    }.rows
                    return try classified(check, rows: rows, columns: columns, scopedPairs: scopedPairs,
                                          duration: milliseconds(since: started))
                case .failingRows(let count, _):
                    return try failingRows(check, query: plan.alone, count: count, observedQuery: nil, on: worker, started: started)
                }
            case .failingRows(let query, let count, let observedQuery):
                return try failingRows(check, query: query, count: count, observedQuery: observedQuery, on: worker, started: started)
            }
        } catch {
            return errored(check, error, duration: milliseconds(since: started))
        }
    }

    /// A failing-rows query counted and sampled in one statement, with its observed figures.
    func failingRows(_ check: CompiledCheck, query: SQL, count: SQL, observedQuery: SQL?, on worker: CheckWorker,
                     started: ContinuousClock.Instant) throws -> CheckResult {
        var observed: [String: JSONValue] = [:]
        if let observedQuery { observed = try readOnly(worker) { Self.observed(try $0.query(observedQuery)) } }
        let size = max(0, check.spec.sampleSize)
        let result = try readOnly(worker) { try $0.query(Self.countAndSample(query, count: count, sampleSize: size)) }
        let failing: Int = try result.first?.decode(named: "_failing_rows") ?? 0
        var finished = try finish(check, failing: failing, observed: observed, duration: milliseconds(since: started),
                                  sample: nil, on: nil)
        if failing > 0 && size > 0 {
            (finished.sample, finished.sampleColumns) = Self.sample(result, limit: size, dropping: "_failing_rows")
        }
        return finished
    }

    /// The set-level checks in the order the connections take them: the heavier types first (a
    /// long check taken last would run alone at the end), in the file's order within a weight.
    static func heaviestFirst(_ checks: [CompiledCheck]) -> [CompiledCheck] {
        checks.enumerated().sorted { ($0.element.weight, -$0.offset) > ($1.element.weight, -$1.offset) }.map(\.element)
    }

    /// A classified check's outcome from its statement's rows: per-class figures, then the first
    /// failing keys.
    func classified(_ check: CompiledCheck, rows: [Row], columns: [String], scopedPairs: Bool,
                    duration: Int) throws -> CheckResult {
        var classes: [String: JSONValue] = [:]
        var observed: [String: JSONValue] = ["left_keys": .number(0), "right_keys": .number(0)]
        var failing = 0
        var sample: [[String: JSONValue]] = []
        for row in rows {
            if row.text(at: 0) == "class" {
                let name = row.text(at: 1) ?? ""
                let count = Int(row.text(at: 2) ?? "0") ?? 0
                var figures: [String: JSONValue] = ["count": .number(Decimal(count)), "amount": Self.value(row.text(at: 3))]
                if let text = row.text(at: 6),
                   let amounts = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) {
                    figures["amounts"] = .object(amounts.mapValues { .string($0) })
                }
                classes[name] = .object(figures)
                observed["left_keys"] = Self.value(row.text(at: 4))
                observed["right_keys"] = Self.value(row.text(at: 5))
                if name != "matched" { failing += count }
            } else if sample.count < check.spec.sampleSize {
                var object: [String: JSONValue] = [:]
                for (index, name) in columns.enumerated() { object[name] = Self.value(row.text(at: 7 + index)) }
                sample.append(object)
            }
        }
        for name in ReconcileCheck.classes where classes[name] == nil {
            classes[name] = .object(["count": .number(0), "amount": .number(0)])
        }
        observed["classes"] = .object(classes)
        if !scopedPairs && (observed["left_keys"] == .number(0) || observed["right_keys"] == .number(0)) {
            var result = errored(check, nil, duration: duration)
            result.observed = observed
            result.message = "a side of the reconciliation is empty: a missing source is never read as zero"
            return result
        }
        var result = try finish(check, failing: failing, observed: observed, duration: duration, sample: nil, on: nil)
        if failing > 0 {
            result.sample = sample
            result.sampleColumns = columns
        }
        return result
    }

    /// The sample of a failed row-level check: its failing rows, with the columns that explain
    /// them, the first in the order of their text (the same data, the same sample).
    func rowSample(_ check: CompiledCheck, _ predicate: SQL, _ extras: SQL?) -> SQL {
        """
        SELECT * FROM (SELECT *\(CompiledCheck.extraColumns(extras)) FROM \(check.relation) WHERE \(predicate)) AS sample
        ORDER BY sample::text LIMIT \(integer: check.spec.sampleSize)
        """
    }

    func finish(
        _ check: CompiledCheck, failing: Int, observed: [String: JSONValue], duration: Int, sample: SQL?, on worker: CheckWorker?
    ) throws -> CheckResult {
        let failed = failing > check.spec.maxFailing
        var result = CheckResult(
            id: check.spec.id, type: check.spec.typeName, table: check.table, layer: check.layer,
            severity: check.spec.severity, status: failed ? (check.spec.severity == .error ? .fail : .warn) : .pass,
            failingRows: failing, observed: observed, sample: [], sql: check.displaySQL.text, durationMS: duration,
            description: check.spec.description, message: nil)
        result.line = check.spec.line
        if failing > 0, let sample, let worker, check.spec.sampleSize > 0 {
            let rows = try readOnly(worker) { try $0.query(sample) }
            (result.sample, result.sampleColumns) = Self.sample(rows, limit: check.spec.sampleSize, dropping: nil)
        }
        return result
    }

    func errored(_ check: CompiledCheck, _ error: (any Error)?, duration: Int) -> CheckResult {
        var message = error.map { "\($0)" } ?? ""
        if let error = error as? PostgresError {
            message = error.isCancellation ? "timed out after \(timeoutMilliseconds) ms (statement timeout)"
                : "[\(error.sqlState?.rawValue ?? "?")] \(error.message)"
        }
        var result = CheckResult(
            id: check.spec.id, type: check.spec.typeName, table: check.table, layer: check.layer,
            severity: check.spec.severity, status: .error, failingRows: 0, observed: [:], sample: [], sql: check.displaySQL.text,
            durationMS: duration, description: check.spec.description, message: message)
        result.line = check.spec.line
        return result
    }

    static func value(_ text: String?) -> JSONValue {
        guard let text else { return .null }
        if text.range(of: "^-?[0-9]+(\\.[0-9]+)?$", options: .regularExpression) != nil, text.count <= 38 {
            return .numeral(text)
        }
        if text == "t" || text == "f" { return .bool(text == "t") }
        return .string(text)
    }

    static func sample(_ result: QueryResult, limit: Int, dropping: String?) -> ([[String: JSONValue]], [String]) {
        let columns = result.columns.filter { $0 != dropping }
        var rows: [[String: JSONValue]] = []
        for row in result.rows.prefix(limit) {
            var object: [String: JSONValue] = [:]
            for (index, name) in result.columns.enumerated() where name != dropping { object[name] = value(row.text(at: index)) }
            rows.append(object)
        }
        return (rows, columns)
    }

    /// The figures of a one-row observation query (row_count's counts), by column.
    static func observed(_ result: QueryResult) -> [String: JSONValue] {
        guard let row = result.first else { return [:] }
        var observed: [String: JSONValue] = [:]
        for (index, name) in result.columns.enumerated() { observed[name] = value(row.text(at: index)) }
        return observed
    }
}

/// The set-level checks not yet taken, shared by the workers: each takes the next when it is free.
final class CheckQueue: @unchecked Sendable {
    // Guarded by `lock`; every worker takes from it until it is empty.
    private let lock = NSLock()
    private var checks: ArraySlice<CompiledCheck>

    init(_ checks: [CompiledCheck]) { self.checks = checks[...] }

    func next() -> CompiledCheck? { lock.withLock { checks.popFirst() } }
}

/// Results from the second worker, handed back across threads.
final class ResultBox: @unchecked Sendable {
    // Guarded by `lock`; written by one worker, read after it finished.
    private let lock = NSLock()
    private var stored: [CheckResult] = []

    func add(_ result: CheckResult) { lock.withLock { stored.append(result) } }

    var results: [CheckResult] { lock.withLock { stored } }
}

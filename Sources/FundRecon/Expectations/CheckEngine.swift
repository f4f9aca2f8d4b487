import Foundation
import Logging
import Postgres

/// Evaluates an expectations file against a database: every table and column is checked against
/// the catalog before anything runs; row-level checks on one table share one scan; each check runs
/// READ ONLY under a statement timeout; samples are fetched only for checks that failed.
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
    /// Opens a second connection of the run: set-level checks then share two connections (two cores).
    public var secondConnection: (@Sendable () throws -> Connection)?
    /// A scoped run's period: checks with a `period` see only its rows.
    public var scope: CheckScope?

    public init(resolver: TableResolver) {
        self.resolver = resolver
    }

    /// Compiles and validates every check; a bad table, column or expression file is an
    /// `ExpectationsError` (exit 2) before any check runs.
    func compileAll(_ file: ExpectationsFile, connection: Connection) throws -> [CompiledCheck] {
        let selected = file.checks.filter { tags.isEmpty || !tags.isDisjoint(with: $0.tags) }
        func fail(_ spec: CheckSpec, _ message: String) -> ExpectationsError {
            ExpectationsError(file: file.path, line: spec.line, checkID: spec.id, message: message)
        }
        var relations: Set<String> = []
        for spec in selected {
            for table in tables(of: spec) {
                guard let resolved = resolver.resolve(table) else { throw fail(spec, "unknown table '\(table)'") }
                relations.insert(resolved.relation)
            }
        }
        let catalog = try TableCatalog.load(relations: relations, connection: connection)
        var compiled: [CompiledCheck] = []
        for spec in selected {
            for (table, names) in columnsUsed(by: spec) {
                guard let relation = resolver.resolve(table)?.relation, let columns = catalog.columns[relation] else {
                    throw fail(spec, "table '\(table)' does not exist")
                }
                for name in names where columns[name] == nil {
                    throw fail(spec, "table '\(table)' has no column '\(name)'")
                }
            }
            compiled.append(try CheckCompiler.compile(spec, resolve: { name in
                guard let resolved = resolver.resolve(name) else { throw fail(spec, "unknown table '\(name)'") }
                return resolved
            }, catalog: catalog, zone: businessTimeZone, scope: scope))
        }
        return compiled
    }

    /// Evaluates the file; a check that errors or times out is `error`, and the others still run.
    public func evaluate(_ file: ExpectationsFile, connection: Connection, logger: Logger) throws -> [CheckResult] {
        let compiled = try compileAll(file, connection: connection)
        var results: [String: CheckResult] = [:]
        // Row-level checks, fused per table: one scan counts every check's failing rows.
        let rowLevel = Dictionary(grouping: compiled.compactMap { check in check.failCondition.map { (check, $0) } }) { $0.0.relation }
        for (relation, group) in rowLevel.sorted(by: { $0.key < $1.key }) {
            let started = ContinuousClock.now
            let counts = group.enumerated().map { "count(*) FILTER (WHERE \($1.1)) AS c\($0)" }
            let fused = "SELECT \(counts.joined(separator: ", ")) FROM \(relation)"
            do {
                let row = try readOnly(connection) { try $0.query(SQL(fused)).first }
                let elapsed = milliseconds(since: started) / max(1, group.count)
                for (index, (check, condition)) in group.enumerated() {
                    let failing: Int = try row?.decode(at: index) ?? 0
                    results[check.spec.id] = try finish(
                        check, failing: failing, observed: [:], duration: elapsed,
                        sampleQuery: rowSample(check, condition), on: connection)
                }
            } catch {
                // One bad expression must not take its neighbours down: evaluate the group one by one.
                for (check, condition) in group {
                    let single = "SELECT count(*) FILTER (WHERE \(condition)) FROM \(relation)"
                    let startedSingle = ContinuousClock.now
                    do {
                        let failing: Int = try readOnly(connection) { try $0.query(SQL(single)).scalar() }
                        results[check.spec.id] = try finish(
                            check, failing: failing, observed: [:], duration: milliseconds(since: startedSingle),
                            sampleQuery: rowSample(check, condition), on: connection)
                    } catch {
                        results[check.spec.id] = errored(check, error, duration: milliseconds(since: startedSingle))
                    }
                }
            }
        }
        // Set-level checks: one query each, its count and its first failing rows together. With a
        // second connection they are shared out, heaviest first, between two workers.
        let setLevel = compiled.filter { $0.failingQuery != nil }
        let (mine, theirs) = secondConnection == nil ? (setLevel, []) : Self.balance(setLevel)
        let others = ResultBox()
        let group = DispatchGroup()
        if let connect = secondConnection, !theirs.isEmpty {
            let engine = self
            DispatchQueue.global().async(group: group) {
                do {
                    let second = try connect()
                    for check in theirs { others.add(engine.evaluateSetLevel(check, on: second)) }
                } catch {
                    for check in theirs { others.add(engine.errored(check, error, duration: 0)) }
                }
            }
        }
        for check in mine { results[check.spec.id] = evaluateSetLevel(check, on: connection) }
        group.wait()
        for result in others.results { results[result.id] = result }
        for result in results.values where result.status != .pass {
            logger.debug("\(result.id): \(result.status.rawValue), \(result.failingRows) failing rows")
        }
        return compiled.compactMap { results[$0.spec.id] }
    }

    /// The run's schemas, newest layer first, for the authors' SQL fragments.
    var searchPath: String? {
        resolver.schemas.map { schemas in [Layer.ads, .dws, .dwd, .ods, .oltp].map { schemas.name($0) }.joined(separator: ", ") }
    }

    /// Runs `body` in a READ ONLY transaction with the statement timeout, UTC, the run's schemas on
    /// the search_path and its as_of, all local to the transaction.
    func readOnly<T>(_ connection: Connection, _ body: (Connection) throws -> T) throws -> T {
        try connection.transaction(readOnly: true) { connection in
            try connection.execute("""
                SELECT set_config('statement_timeout', \(String(timeoutMilliseconds)), true),
                       set_config('timezone', 'UTC', true), set_config('recon.as_of', \(asOf), true),
                       -- JIT compiles a plan for longer than a mid-sized check runs (fund_recon.yml at 62k
                       -- orders: 938 ms at PostgreSQL's default threshold, 650 ms without JIT), yet pays
                       -- off on the largest statements at a million orders: only those get it.
                       set_config('jit_above_cost', '1000000', true)
                """)
            if let searchPath { try connection.execute("SELECT set_config('search_path', \(searchPath), true)") }
            return try body(connection)
        }
    }

    /// One set-level check on one connection; whatever goes wrong is the check's `error`.
    func evaluateSetLevel(_ check: CompiledCheck, on connection: Connection) -> CheckResult {
        let started = ContinuousClock.now
        do {
            if let query = check.reconcileQuery {
                let rows = try readOnly(connection) { try $0.query(SQL(query)) }
                return try reconciled(check, rows: rows, duration: milliseconds(since: started))
            }
            guard let failingQuery = check.failingQuery else { return errored(check, nil, duration: 0) }
            var observed: [String: JSONValue] = [:]
            if let query = check.observedQuery {
                observed = try readOnly(connection) { Self.observed(try $0.query(SQL(query))) }
            }
            let limit = max(1, check.spec.sampleSize)
            let query = "SELECT f.*, \(check.failingCount) OVER () AS _failing_rows FROM (\(failingQuery)) f LIMIT \(limit)"
            let result = try readOnly(connection) { try $0.query(SQL(query)) }
            let failing: Int = try result.first?.decode(named: "_failing_rows") ?? 0
            var finished = try finish(check, failing: failing, observed: observed, duration: milliseconds(since: started),
                                      sampleQuery: nil, on: nil)
            if failing > 0 {
                (finished.sample, finished.sampleColumns) = try Self.sample(result, limit: check.spec.sampleSize, dropping: "_failing_rows")
            }
            return finished
        } catch {
            return errored(check, error, duration: milliseconds(since: started))
        }
    }

    /// Shares checks between two workers: heaviest kinds first, each to the less loaded worker.
    static func balance(_ checks: [CompiledCheck]) -> ([CompiledCheck], [CompiledCheck]) {
        func weight(_ check: CompiledCheck) -> Int {
            switch check.spec.kind {
            case .reconcile, .crossPeriod: return 4
            case .sql, .relationships, .continuity, .unique: return 2
            default: return 1
            }
        }
        var first: [CompiledCheck] = [], second: [CompiledCheck] = []
        var load = (0, 0)
        for check in checks.enumerated().sorted(by: { (weight($0.element), -$0.offset) > (weight($1.element), -$1.offset) }).map(\.element) {
            if load.0 <= load.1 {
                first.append(check)
                load.0 += weight(check)
            } else {
                second.append(check)
                load.1 += weight(check)
            }
        }
        return (first, second)
    }

    /// A reconcile's outcome from its one statement: per-class figures, then the first failing keys.
    func reconciled(_ check: CompiledCheck, rows: QueryResult, duration: Int) throws -> CheckResult {
        var classes: [String: JSONValue] = [:]
        var observed: [String: JSONValue] = ["left_keys": .number(0), "right_keys": .number(0)]
        var failing = 0
        var sample: [[String: JSONValue]] = []
        for row in rows.rows {
            if row.text(at: 0) == "class" {
                let name = row.text(at: 1) ?? ""
                let count = Int(row.text(at: 2) ?? "0") ?? 0
                classes[name] = .object(["count": .number(Decimal(count)), "amount": Self.value(row.text(at: 3))])
                observed["left_keys"] = Self.value(row.text(at: 4))
                observed["right_keys"] = Self.value(row.text(at: 5))
                if name != "matched" { failing += count }
            } else if sample.count < check.spec.sampleSize {
                var object: [String: JSONValue] = [:]
                for (index, name) in check.reconcileColumns.enumerated() { object[name] = Self.value(row.text(at: 6 + index)) }
                sample.append(object)
            }
        }
        for name in ["matched", "missing_right", "missing_left", "amount_mismatch", "late"] where classes[name] == nil {
            classes[name] = .object(["count": .number(0), "amount": .number(0)])
        }
        observed["classes"] = .object(classes)
        if !check.scopedPairs && (observed["left_keys"] == .number(0) || observed["right_keys"] == .number(0)) {
            var result = errored(check, nil, duration: duration)
            result.observed = observed
            result.message = "a side of the reconciliation is empty: a missing source is never read as zero"
            return result
        }
        var result = try finish(check, failing: failing, observed: observed, duration: duration, sampleQuery: nil, on: nil)
        if failing > 0 {
            result.sample = sample
            result.sampleColumns = check.reconcileColumns
        }
        return result
    }

    /// The sample of a failed row-level check: its failing rows, with the columns that explain them.
    func rowSample(_ check: CompiledCheck, _ condition: String) -> String {
        "SELECT *\(check.sampleExtras) FROM \(check.relation) WHERE \(condition) LIMIT \(check.spec.sampleSize)"
    }

    func finish(
        _ check: CompiledCheck, failing: Int, observed: [String: JSONValue], duration: Int,
        sampleQuery: String?, on connection: Connection?
    ) throws -> CheckResult {
        let failed = failing > check.spec.maxFailing
        var result = CheckResult(
            id: check.spec.id, type: check.spec.kind.typeName, table: check.spec.table, layer: check.layer,
            severity: check.spec.severity, status: failed ? (check.spec.severity == .error ? .fail : .warn) : .pass,
            failingRows: failing, observed: observed, sample: [], sql: check.displaySQL, durationMS: duration,
            description: check.spec.description, message: nil)
        if failing > 0, let sampleQuery, let connection, check.spec.sampleSize > 0 {
            let rows = try readOnly(connection) { try $0.query(SQL(sampleQuery)) }
            (result.sample, result.sampleColumns) = try Self.sample(rows, limit: check.spec.sampleSize, dropping: nil)
        }
        return result
    }

    func errored(_ check: CompiledCheck, _ error: Error?, duration: Int) -> CheckResult {
        var message = error.map { "\($0)" } ?? ""
        if let error = error as? PostgresError {
            message = error.isCancellation ? "timed out after \(timeoutMilliseconds) ms (statement timeout)"
                : "[\(error.sqlState ?? "?")] \(error.message)"
        }
        return CheckResult(
            id: check.spec.id, type: check.spec.kind.typeName, table: check.spec.table, layer: check.layer,
            severity: check.spec.severity, status: .error, failingRows: 0, observed: [:], sample: [], sql: check.displaySQL,
            durationMS: duration, description: check.spec.description, message: message)
    }

    static func value(_ text: String?) -> JSONValue {
        guard let text else { return .null }
        if text.range(of: "^-?[0-9]+(\\.[0-9]+)?$", options: .regularExpression) != nil, text.count <= 38 {
            return .numeral(text)
        }
        if text == "t" || text == "f" { return .bool(text == "t") }
        return .string(text)
    }

    static func sample(_ result: QueryResult, limit: Int, dropping: String?) throws -> ([[String: JSONValue]], [String]) {
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

    /// Every table a check reads.
    func tables(of spec: CheckSpec) -> [String] {
        switch spec.kind {
        case .relationships(_, let to): return [spec.table, to.table]
        case .rowCount(_, _, let equals): return [spec.table] + (equals.map { [$0.table] } ?? [])
        case .reconcile(let left, let right, _, _): return [left.table, right.table]
        case .crossPeriod(let fine, let coarse, _, _, _): return [fine.table, coarse.table]
        case .sql: return []
        default: return [spec.table]
        }
    }

    /// Columns named by a check's keys, per table (expressions are the author's SQL and not parsed).
    func columnsUsed(by spec: CheckSpec) -> [(String, [String])] {
        func identifiers(_ texts: [String?]) -> [String] {
            texts.compactMap { $0 }.filter { $0.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil }
        }
        switch spec.kind {
        case .notNull(let columns), .unique(let columns): return [(spec.table, columns)]
        case .acceptedValues(let column, _, _), .range(let column, _, _), .freshness(let column, _): return [(spec.table, [column])]
        case .relationships(let columns, let to): return [(spec.table, columns), (to.table, to.keys)]
        case .balance(let lhs, let rhs, let grain): return [(spec.table, grain + identifiers([lhs, rhs]))]
        case .reconcile(let left, let right, _, let also):
            return [(left.table, left.keys + also + identifiers([left.amount, left.date])),
                    (right.table, right.keys + also + identifiers([right.amount, right.date]))]
        case .crossPeriod(let fine, let coarse, _, let keys, let measures):
            return [(fine.table, keys + measures + identifiers([fine.period])), (coarse.table, keys + measures + identifiers([coarse.period]))]
        case .continuity(let keys, let period, _, let opening, let closing): return [(spec.table, keys + [period, opening, closing])]
        case .rowCount(_, _, let equals): return [(spec.table, [])] + (equals.map { [($0.table, [])] } ?? [])
        case .expression: return [(spec.table, [])]
        case .sql: return []
        }
    }
}

/// Results from the second worker, handed back across threads.
final class ResultBox: @unchecked Sendable {
    // Guarded by `lock`; written by one worker, read after it finished.
    private let lock = NSLock()
    private var stored: [CheckResult] = []

    func add(_ result: CheckResult) { lock.withLock { stored.append(result) } }

    var results: [CheckResult] { lock.withLock { stored } }
}

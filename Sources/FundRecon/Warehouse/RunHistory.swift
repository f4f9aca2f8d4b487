import Foundation
import Postgres

/// The persistent schema `recon_meta`: runs, their tasks and check results, and a persistent
/// warehouse's state (watermarks, loaded files, partition digests, restatements).
public enum RunHistory {
    public static let schema = "recon_meta"

    /// Creates `recon_meta` and its tables when missing. Concurrent first runs are serialised by a
    /// transaction-level advisory lock, so neither trips over the other's CREATE.
    public static func ensure(on connection: Connection) throws {
        try connection.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock(\(RunSession.lockSpace), 0)")
            try connection.executeScript("""
                CREATE SCHEMA IF NOT EXISTS recon_meta;
                CREATE TABLE IF NOT EXISTS recon_meta.runs (
                  run_id text PRIMARY KEY, kind text NOT NULL, schema_prefix text NOT NULL, grain text, period text,
                  period_start timestamptz, period_end timestamptz, status text NOT NULL, exit_code integer,
                  started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz, database text,
                  rows_loaded bigint, restated_partitions integer, checks integer, checks_failed integer,
                  expectations_sha256 text, pid integer, error text);
                CREATE TABLE IF NOT EXISTS recon_meta.task_runs (
                  run_id text NOT NULL, task text NOT NULL, status text NOT NULL, attempts integer NOT NULL,
                  rows bigint NOT NULL, started_at timestamptz, finished_at timestamptz, duration_ms bigint NOT NULL,
                  error text, PRIMARY KEY (run_id, task));
                CREATE TABLE IF NOT EXISTS recon_meta.check_results (
                  run_id text NOT NULL, check_id text NOT NULL, type text NOT NULL, layer text NOT NULL,
                  severity text NOT NULL, status text NOT NULL, failing_rows bigint NOT NULL, duration_ms bigint NOT NULL,
                  message text, PRIMARY KEY (run_id, check_id));
                CREATE TABLE IF NOT EXISTS recon_meta.watermarks (
                  schema_prefix text NOT NULL, source text NOT NULL, loaded_until timestamptz NOT NULL, run_id text NOT NULL,
                  PRIMARY KEY (schema_prefix, source));
                CREATE TABLE IF NOT EXISTS recon_meta.loaded_files (
                  schema_prefix text NOT NULL, file text NOT NULL, sha256 text NOT NULL, status text NOT NULL,
                  rows_loaded bigint NOT NULL, run_id text NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now(),
                  PRIMARY KEY (schema_prefix, file));
                ALTER TABLE recon_meta.loaded_files ADD COLUMN IF NOT EXISTS stamp text;
                CREATE TABLE IF NOT EXISTS recon_meta.partitions (
                  schema_prefix text NOT NULL, table_name text NOT NULL, partition_key text NOT NULL,
                  row_count bigint NOT NULL, digest text NOT NULL, run_id text NOT NULL,
                  built_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (schema_prefix, table_name, partition_key));
                CREATE TABLE IF NOT EXISTS recon_meta.build_inputs (
                  schema_prefix text NOT NULL, task text NOT NULL, fingerprint text NOT NULL, run_id text NOT NULL,
                  built_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (schema_prefix, task));
                CREATE TABLE IF NOT EXISTS recon_meta.restatements (
                  run_id text NOT NULL, schema_prefix text NOT NULL, table_name text NOT NULL, partition_key text NOT NULL,
                  rows_before bigint NOT NULL, rows_after bigint NOT NULL, restated_at timestamptz NOT NULL DEFAULT now());
                ALTER TABLE recon_meta.restatements ADD COLUMN IF NOT EXISTS amounts text;
                CREATE TABLE IF NOT EXISTS recon_meta.model_builds (
                  schema_prefix text NOT NULL, model text NOT NULL, identity text NOT NULL, run_id text NOT NULL,
                  built_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (schema_prefix, model));
                CREATE TABLE IF NOT EXISTS recon_meta.extract_indexes (
                  schema_prefix text NOT NULL, file text NOT NULL, sha256 text NOT NULL, blocks text NOT NULL,
                  run_id text NOT NULL, indexed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (schema_prefix, file));
                CREATE TABLE IF NOT EXISTS recon_meta.batch_days (
                  schema_prefix text NOT NULL, file text NOT NULL, stamp text NOT NULL, latest_day date NOT NULL,
                  PRIMARY KEY (schema_prefix, file));
                CREATE TABLE IF NOT EXISTS recon_meta.extract_index_hours (
                  schema_prefix text NOT NULL, file text NOT NULL, hour integer NOT NULL, blocks text NOT NULL,
                  PRIMARY KEY (schema_prefix, file, hour));
                ALTER TABLE recon_meta.runs ADD COLUMN IF NOT EXISTS chain_position bigint UNIQUE;
                ALTER TABLE recon_meta.runs ADD COLUMN IF NOT EXISTS previous_hash text;
                ALTER TABLE recon_meta.runs ADD COLUMN IF NOT EXISTS record_hash text;
                CREATE TABLE IF NOT EXISTS recon_meta.signoffs (
                  schema_prefix text NOT NULL, month text NOT NULL, role text NOT NULL, signed_by text NOT NULL,
                  signed_at timestamptz NOT NULL DEFAULT now(), fingerprint text NOT NULL, fingerprint_json text NOT NULL,
                  status text NOT NULL DEFAULT 'active', withdrawn_at timestamptz, withdrawn_reason text);
                CREATE TABLE IF NOT EXISTS recon_meta.break_register (
                  schema_prefix text NOT NULL, break_type text NOT NULL, entity_type text NOT NULL, entity_key text NOT NULL,
                  currency text, merchant_id text, gateway text, biz_date date, diff_amount numeric, detail text,
                  first_seen_run text NOT NULL, first_seen_at timestamptz NOT NULL DEFAULT now(),
                  last_seen_run text NOT NULL, last_seen_at timestamptz NOT NULL DEFAULT now(),
                  status text NOT NULL DEFAULT 'open', resolved_on date, owner text, comment text,
                  PRIMARY KEY (schema_prefix, break_type, entity_type, entity_key));
                CREATE TABLE IF NOT EXISTS recon_meta.source_epochs (
                  schema_prefix text PRIMARY KEY, epoch bigint NOT NULL, run_id text NOT NULL,
                  changed_at timestamptz NOT NULL DEFAULT now());
                """)
        }
    }

    /// What a run row starts with.
    public struct RunStart: Sendable {
        public var runID: String
        public var kind: String
        public var prefix: String
        public var grain: String?
        public var period: String?
        public var periodStart: Date?
        public var periodEnd: Date?
        public var database: String
        public var expectationsSHA256: String
    }

    /// Records a run as running.
    public static func start(_ run: RunStart, on connection: Connection) throws {
        try connection.execute("""
            INSERT INTO recon_meta.runs (run_id, kind, schema_prefix, grain, period, period_start, period_end, status,
                                         database, expectations_sha256, pid)
            VALUES (\(run.runID), \(run.kind), \(run.prefix), \(run.grain), \(run.period), \(run.periodStart), \(run.periodEnd),
                    \(RunStatus.running.rawValue), \(run.database), \(run.expectationsSHA256), \(Int(getpid())))
            """)
    }

    /// Records how a run ended, with its tasks and check results, in one transaction.
    public static func finish(
        runID: String, status: RunStatus, exitCode: Int32, error: String?, tasks: [TaskRecord], checks: [CheckResult],
        rowsLoaded: Int, restated: Int, on connection: Connection
    ) throws {
        try connection.transaction { connection in
            let failed = checks.filter { $0.status == .fail || $0.status == .error }.count
            try connection.execute("""
                UPDATE recon_meta.runs SET status = \(status.rawValue), exit_code = \(Int(exitCode)), finished_at = now(), error = \(error),
                       rows_loaded = \(rowsLoaded), restated_partitions = \(restated), checks = \(checks.count), checks_failed = \(failed)
                WHERE run_id = \(runID)
                """)
            try connection.execute("DELETE FROM recon_meta.task_runs WHERE run_id = \(runID)")
            for task in tasks {
                try connection.execute("""
                    INSERT INTO recon_meta.task_runs (run_id, task, status, attempts, rows, started_at, finished_at, duration_ms, error)
                    VALUES (\(runID), \(task.task.rawValue), \(task.status.rawValue), \(task.attempts), \(task.rows),
                            \(task.startedAt)::timestamptz, \(task.finishedAt)::timestamptz, \(task.durationMS), \(task.error))
                    """)
            }
            try connection.copyIn("""
                COPY recon_meta.check_results (run_id, check_id, type, layer, severity, status, failing_rows, duration_ms, message)
                FROM STDIN
                """) { writer in
                for check in checks {
                    try writer.writeRow([runID, check.id, check.type, check.layer.name, check.severity.rawValue, check.status.rawValue,
                                         String(check.failingRows), String(check.durationMS), check.message])
                }
            }
            try chain(runID: runID, on: connection)
        }
    }

    /// A run record as the chain hashes it: every column of the run and its check results, in a
    /// form that does not depend on the session (times as epoch seconds, NULL as a mark of its own).
    static let recordText: SQL = """
        concat_ws(chr(31), r.run_id, r.kind, r.schema_prefix, coalesce(r.grain, chr(1)), coalesce(r.period, chr(1)),
                  coalesce(extract(epoch FROM r.period_start)::text, chr(1)), coalesce(extract(epoch FROM r.period_end)::text, chr(1)),
                  r.status, coalesce(r.exit_code::text, chr(1)), extract(epoch FROM r.started_at)::text,
                  coalesce(extract(epoch FROM r.finished_at)::text, chr(1)), coalesce(r.database, chr(1)),
                  coalesce(r.rows_loaded::text, chr(1)), coalesce(r.restated_partitions::text, chr(1)), coalesce(r.checks::text, chr(1)),
                  coalesce(r.checks_failed::text, chr(1)), coalesce(r.expectations_sha256, chr(1)), coalesce(r.error, chr(1)),
                  coalesce((SELECT string_agg(c.check_id || ':' || c.status || ':' || c.failing_rows, ',' ORDER BY c.check_id)
                            FROM recon_meta.check_results c WHERE c.run_id = r.run_id), chr(1)))
        """

    /// Appends a finished run to the hash chain of `recon_meta.runs`: its record's hash covers the
    /// previous record's hash, so changing or removing any earlier record breaks every later link.
    /// Appends are serialised by a transaction lock (call inside a transaction).
    static func chain(runID: String, on connection: Connection) throws {
        try connection.execute("SELECT pg_advisory_xact_lock(\(RunSession.lockSpace), 1)")
        try connection.execute("""
            WITH last AS (SELECT chain_position, record_hash FROM recon_meta.runs
                          WHERE chain_position IS NOT NULL ORDER BY chain_position DESC LIMIT 1)
            UPDATE recon_meta.runs r
            SET chain_position = coalesce((SELECT chain_position FROM last), 0) + 1,
                previous_hash = coalesce((SELECT record_hash FROM last), ''),
                record_hash = encode(sha256(convert_to(coalesce((SELECT record_hash FROM last), '') || chr(30) || \(recordText), 'UTF8')), 'hex')
            WHERE r.run_id = \(runID) AND r.chain_position IS NULL
            """)
    }

    /// What `recon history verify` found.
    public struct ChainReport: Sendable {
        public var records = 0
        /// The first record whose hash or link does not hold, and why.
        public var broken: (runID: String, reason: String)?
    }

    /// Recomputes every chained record's hash in order and checks each link to the one before.
    public static func verifyChain(on connection: Connection) throws -> ChainReport {
        try ensure(on: connection)
        var report = ChainReport()
        var previous = ""
        var position = 0
        for row in try connection.query("""
            SELECT r.run_id, r.chain_position, r.previous_hash, r.record_hash,
                   encode(sha256(convert_to(r.previous_hash || chr(30) || \(recordText), 'UTF8')), 'hex')
            FROM recon_meta.runs r WHERE r.chain_position IS NOT NULL ORDER BY r.chain_position
            """).rows {
            let runID = try row.decode(String.self, at: 0)
            position += 1
            report.records += 1
            if try row.decode(Int.self, at: 1) != position {
                report.broken = (runID, "record \(position) of the chain is missing (a run record was removed)")
                return report
            }
            if try row.decode(String.self, at: 2) != previous {
                report.broken = (runID, "its link does not match the record before it")
                return report
            }
            let stored = try row.decode(String.self, at: 3)
            if try row.decode(String.self, at: 4) != stored {
                report.broken = (runID, "the record or its check results changed after it was written")
                return report
            }
            previous = stored
        }
        return report
    }

    /// Records the partitions of closed periods a run changed.
    public static func recordRestatements(_ changes: [PartitionChange], runID: String, prefix: String, on connection: Connection) throws {
        guard !changes.isEmpty else { return }
        try connection.copyIn("""
            COPY recon_meta.restatements (run_id, schema_prefix, table_name, partition_key, rows_before, rows_after, amounts) FROM STDIN
            """) { writer in
            for change in changes {
                try writer.writeRow([runID, prefix, change.table, change.partition, String(change.rowsBefore), String(change.rowsAfter),
                                     (change.amounts ?? []).map(\.text).joined(separator: "; ")])
            }
        }
    }

    /// Records a run stopped by SIGINT/SIGTERM (from the interrupt handler, on a connection of its own).
    public static func markInterrupted(runID: String, on connection: Connection) throws {
        try connection.transaction { connection in
            try connection.execute("""
                UPDATE recon_meta.runs SET status = \(RunStatus.interrupted.rawValue), finished_at = now(), error = 'stopped by a signal'
                WHERE run_id = \(runID) AND status = \(RunStatus.running.rawValue)
                """)
            try chain(runID: runID, on: connection)
        }
    }

    /// Runs of a prefix left `running` by a process that died (the caller holds the prefix's lock,
    /// so none of them is alive) are marked `crashed`; returns their ids.
    public static func markCrashed(prefix: String, except runID: String, on connection: Connection) throws -> [String] {
        try connection.transaction { connection in
            let crashed = try connection.query("""
                UPDATE recon_meta.runs SET status = \(RunStatus.crashed.rawValue), finished_at = now(),
                       error = 'the process ended before the run finished'
                WHERE schema_prefix = \(prefix) AND status = \(RunStatus.running.rawValue) AND run_id <> \(runID)
                RETURNING run_id
                """).rows.map { try $0.decode(String.self, at: 0) }
            for run in crashed { try chain(runID: run, on: connection) }
            return crashed
        }
    }

    /// Each check's statuses over the last `limit` finished runs of a prefix, oldest first (the
    /// HTML report's trend column).
    public static func trend(prefix: String, limit: Int = 12, on connection: Connection) throws -> [String: [TrendPoint]] {
        let result = try connection.query("""
            WITH recent AS (
              SELECT run_id, period, started_at FROM recon_meta.runs
              WHERE schema_prefix = \(prefix) AND status IN (\(RunStatus.succeeded.rawValue), \(RunStatus.failed.rawValue))
              ORDER BY started_at DESC LIMIT \(limit))
            SELECT c.check_id, c.status, c.failing_rows, r.run_id, coalesce(r.period, '')
            FROM recent r JOIN recon_meta.check_results c USING (run_id)
            ORDER BY r.started_at
            """)
        var trend: [String: [TrendPoint]] = [:]
        for row in result.rows {
            trend[try row.decode(String.self, at: 0), default: []].append(TrendPoint(
                status: try row.decode(String.self, at: 1), failingRows: try row.decode(Int.self, at: 2),
                runID: try row.decode(String.self, at: 3), period: try row.decode(String.self, at: 4)))
        }
        return trend
    }
}

import Logging
import Postgres

/// What `recon gc` found and did.
package struct GarbageReport: Sendable {
    /// Runs whose lock was free (their process is gone), with the schemas dropped.
    package var dropped: [RunID: [String]] = [:]
    /// Runs still holding their lock, left alone.
    package var live: [RunID] = []
    /// Runs kept on purpose (`--keep-schemas`), left alone unless asked.
    package var kept: [RunID] = []
}

/// Drops the schemas of runs whose process died, leaving live runs alone.
package enum GarbageCollector {
    /// Finds `rc_<runid>_<layer>` schemas; for each run, takes its advisory lock if it is free
    /// (the run is dead), drops its schemas and releases the lock.
    /// Schemas a run kept on purpose carry `RunSession.keptMarker` as their comment: they are
    /// left alone unless `includeKept`.
    package static func collect(on connection: Connection, logger: Logger, includeKept: Bool = false) throws -> GarbageReport {
        let names = try connection.query("""
            SELECT nspname, coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname LIKE 'rc\\_%' ORDER BY 1
            """)
        var runs: [RunID: [String]] = [:]
        var kept: Set<RunID> = []
        for row in names.rows {
            let schema: String = try row.decode(at: 0)
            if let runID = RunSchemas.runID(ofSchema: schema) {
                runs[runID, default: []].append(schema)
                if try row.decode(String.self, at: 1) == RunSession.keptMarker { kept.insert(runID) }
            }
        }
        var report = GarbageReport()
        for (runID, schemas) in runs.sorted(by: { $0.key < $1.key }) {
            if kept.contains(runID) && !includeKept {
                report.kept.append(runID)
                logger.info("run \(runID) was kept: left alone (kept runs are dropped only when asked)")
                continue
            }
            let free: Bool = try connection.query(
                "SELECT pg_try_advisory_lock(\(RunSession.lockSpace), hashtext(\(runID.rawValue)))"
            ).scalar()
            guard free else {
                report.live.append(runID)
                logger.info("run \(runID) is live: left alone")
                continue
            }
            defer {
                _ = try? connection.execute(
                    "SELECT pg_advisory_unlock(\(RunSession.lockSpace), hashtext(\(runID.rawValue)))")
            }
            try RunSession.drop(schemas: schemas, on: connection)
            report.dropped[runID] = schemas
            logger.info("run \(runID) is gone: dropped \(schemas.joined(separator: ", "))")
        }
        return report
    }
}

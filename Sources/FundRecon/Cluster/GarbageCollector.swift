import Logging
import Postgres

/// What `recon gc` found and did.
public struct GarbageReport: Sendable {
    /// Runs whose lock was free (their process is gone), with the schemas dropped.
    public var dropped: [RunID: [String]] = [:]
    /// Runs still holding their lock, left alone.
    public var live: [RunID] = []
}

/// Drops the schemas of runs whose process died, leaving live runs alone.
public enum GarbageCollector {
    /// Finds `rc_<runid>_<layer>` schemas; for each run, takes its advisory lock if it is free
    /// (the run is dead), drops its schemas and releases the lock.
    public static func collect(on connection: Connection, logger: Logger) throws -> GarbageReport {
        let names = try connection.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rc\\_%' ORDER BY 1")
        var runs: [RunID: [String]] = [:]
        for row in names.rows {
            let schema: String = try row.decode(at: 0)
            if let runID = RunSchemas.runID(ofSchema: schema) { runs[runID, default: []].append(schema) }
        }
        var report = GarbageReport()
        for (runID, schemas) in runs.sorted(by: { $0.key < $1.key }) {
            let free: Bool = try connection.query(
                "SELECT pg_try_advisory_lock(\(WarehouseRun.lockSpace), hashtext(\(runID.rawValue)))"
            ).scalar()
            guard free else {
                report.live.append(runID)
                logger.info("run \(runID) is live: left alone")
                continue
            }
            defer {
                _ = try? connection.execute(
                    "SELECT pg_advisory_unlock(\(WarehouseRun.lockSpace), hashtext(\(runID.rawValue)))")
            }
            try WarehouseRun.drop(schemas: schemas, on: connection)
            report.dropped[runID] = schemas
            logger.info("run \(runID) is gone: dropped \(schemas.joined(separator: ", "))")
        }
        return report
    }
}

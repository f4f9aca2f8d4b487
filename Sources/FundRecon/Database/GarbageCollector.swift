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
    /// Schemas named like a run's that no run of this role created (no marker, or another owner): never touched.
    package var foreign: [String] = []
    /// Check reader roles of dead runs, dropped.
    package var droppedRoles: [String] = []
}

/// Drops the schemas of runs whose process died, leaving live runs alone.
package enum GarbageCollector {
    /// Finds the schemas FundRecon runs created (named `rc_<runid>_<layer>`, marked with
    /// `RunSession.createdMarker` or `keptMarker` when created, owned by the connecting role);
    /// for each run, takes its advisory lock if it is free (the run is dead), drops its schemas
    /// and releases the lock. A schema that only looks like a run's is left alone and listed.
    /// Kept runs are left alone unless `includeKept`. Check reader roles whose creating session
    /// is gone are dropped too.
    package static func collect(on connection: Connection, logger: Logger, includeKept: Bool = false) throws -> GarbageReport {
        let names = try connection.query("""
            SELECT nspname, coalesce(obj_description(oid, 'pg_namespace'), ''), pg_get_userbyid(nspowner) = current_user
            FROM pg_namespace WHERE nspname LIKE 'rc\\_%' ORDER BY 1
            """)
        var runs: [RunID: [String]] = [:]
        var kept: Set<RunID> = []
        var report = GarbageReport()
        for row in names.rows {
            let schema: String = try row.decode(at: 0)
            guard let runID = RunSchemas.runID(ofSchema: schema) else { continue }
            let comment: String = try row.decode(at: 1)
            let owned: Bool = try row.decode(at: 2)
            guard owned, comment == RunSession.keptMarker || comment == RunSession.createdMarker + runID.rawValue else {
                report.foreign.append(schema)
                logger.info("\(schema) looks like a run's schema but no run of this role created it: left alone")
                continue
            }
            runs[runID, default: []].append(schema)
            if comment == RunSession.keptMarker { kept.insert(runID) }
        }
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
        report.droppedRoles = try collectReaders(on: connection, logger: logger)
        return report
    }

    /// Drops the check reader roles whose creating session is gone (its lock is free). Needs a
    /// role that may drop roles; without that privilege there is nothing of ours to find.
    static func collectReaders(on connection: Connection, logger: Logger) throws -> [String] {
        let facts = try RoleFacts.read(connection)
        guard facts.mayCreateRoles else { return [] }
        let roles = try connection.query("""
            SELECT rolname FROM pg_roles
            WHERE rolname LIKE 'recon\\_reader\\_%' AND shobj_description(oid, 'pg_authid') LIKE \(CheckReader.roleMarker + "%")
            ORDER BY 1
            """).rows.map { try $0.decode(String.self, at: 0) }
        var dropped: [String] = []
        for role in roles {
            let free: Bool = try connection.query("SELECT pg_try_advisory_lock(\(CheckReader.lockSpace), hashtext(\(role)))").scalar()
            guard free else { continue }
            do {
                try CheckReader.drop(role: role, on: connection)
                dropped.append(role)
                logger.info("check reader \(role) of a run that is gone: dropped")
            } catch {
                logger.warning("check reader \(role) could not be dropped: \(error)")
                _ = try? connection.execute("SELECT pg_advisory_unlock(\(CheckReader.lockSpace), hashtext(\(role)))")
            }
        }
        return dropped
    }
}

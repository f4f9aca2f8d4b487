import Postgres

/// The session lock that lets one run at a time work on a persistent warehouse's prefix.
struct PrefixLock {
    let prefix: String

    /// Takes the lock on `connection`, waiting behind a running run (with a line saying whose) up
    /// to `waitSeconds`, or refusing at once when `wait` is false.
    func acquire(on connection: Connection, wait: Bool, waitSeconds: Int, progress: (String) -> Void) throws {
        let got: Bool = try connection.query("SELECT pg_try_advisory_lock(\(WarehousePrefix.lockSpace), hashtext(\(prefix)))").scalar()
        guard !got else { return }
        let holder = try connection.query("""
            SELECT run_id || ' (pid ' || coalesce(pid::text, '?') || ', ' || coalesce(period, '') || ', started ' ||
                   to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC)'
            FROM recon_meta.runs WHERE schema_prefix = \(prefix) AND status = \(RunStatus.running.rawValue) ORDER BY started_at DESC LIMIT 1
            """).first.map { try $0.decode(String.self, at: 0) } ?? "another process"
        let busy = "schema prefix \(prefix) is being run by \(holder)"
        guard wait else {
            throw RuntimeFailure(cause: busy, fix: "wait for it to finish, or let this run queue behind it")
        }
        progress("waiting: \(busy)")
        try connection.execute("SELECT set_config('lock_timeout', \(String(max(1, waitSeconds) * 1000)), false)")
        do {
            try connection.execute("SELECT pg_advisory_lock(\(WarehousePrefix.lockSpace), hashtext(\(prefix)))")
        } catch let error as PostgresError where error.sqlState == .lockNotAvailable {
            throw RuntimeFailure(cause: busy + " and did not finish within \(waitSeconds) s", fix: "wait longer, or look at that run")
        }
        try connection.execute("RESET lock_timeout")
        progress("the prefix is free: starting")
    }

    /// Releases the lock (a closed session releases it too).
    func release(on connection: Connection) {
        _ = try? connection.execute("SELECT pg_advisory_unlock(\(WarehousePrefix.lockSpace), hashtext(\(prefix)))")
    }
}

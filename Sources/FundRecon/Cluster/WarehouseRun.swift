import Logging
import Postgres

/// One run's ephemeral schemas on a database, guarded by a session advisory lock on the run id.
///
/// Opening takes the lock, then creates the schemas; closing drops them (unless kept) and releases
/// the lock. A run whose process died leaves its lock free, which is how `GarbageCollector` tells
/// its schemas from those of a live run.
public final class WarehouseRun {
    /// The advisory-lock key space of FundRecon runs (the second key is `hashtext(run id)`).
    public static let lockSpace: Int32 = 0x5243

    /// The run's id.
    public let runID: RunID
    /// The run's schema names.
    public let schemas: RunSchemas
    /// The connection that holds the run's lock; stages may use it for their work.
    public let connection: Connection
    /// True when the schemas are left in place at the end.
    public let keepSchemas: Bool
    private let interrupts: Interrupts?
    private var registration: Int?
    private var closed = false
    private let logger: Logger

    /// Opens a run: connects, takes its lock, creates its schemas. Throws a `ClusterError` with
    /// the cause and fix when the database is unreachable or the role may not create schemas.
    public init(
        on target: ConnectionTarget, runID: RunID = .generate(), keepSchemas: Bool = false,
        interrupts: Interrupts? = nil, logger: Logger
    ) throws {
        self.runID = runID
        schemas = RunSchemas(runID: runID)
        self.keepSchemas = keepSchemas
        self.interrupts = interrupts
        self.logger = logger
        connection = try ConnectionProblem.connect(target)

        let role = try DatabaseRole.read(connection)
        guard role.mayCreateSchemas else {
            throw ClusterError(cause: "role \(role.user) may not create schemas in database \(role.database)",
                               fix: role.grant + ", or use another --db")
        }
        let locked: Bool = try connection.query(
            "SELECT pg_try_advisory_lock(\(WarehouseRun.lockSpace), hashtext(\(runID.rawValue)))"
        ).scalar()
        guard locked else {
            throw ClusterError(cause: "run \(runID) is already open on this database", fix: "retry: run ids are random")
        }

        // Registered before the schemas exist, so an interrupt during creation still cleans up.
        let cleanup = WarehouseRun.interruptCleanup(
            target: target, runID: runID, schemas: schemas.all, backendPID: connection.backendPID, keep: keepSchemas)
        registration = interrupts?.register(cleanup)
        try connection.transaction { connection in
            for schema in schemas.all {
                try connection.execute("CREATE SCHEMA \(identifier: schema)")
            }
        }
        logger.info("run \(runID): schemas \(schemas.name(.oltp)) ... \(schemas.name(.ads)) created")
    }

    deinit {
        try? close()
    }

    /// Drops the schemas (unless kept) and releases the lock. Safe to call more than once.
    public func close() throws {
        guard !closed else { return }
        closed = true
        if let registration { interrupts?.remove(registration) }
        if keepSchemas {
            for schema in schemas.all {
                try connection.execute(SQL("COMMENT ON SCHEMA " + quoteIdentifier(schema) + " IS '" + WarehouseRun.keptMarker + "'"))
            }
            logger.notice("run \(runID): schemas kept (\(schemas.all.joined(separator: ", ")))")
        } else {
            try WarehouseRun.drop(schemas: schemas.all, on: connection)
            logger.info("run \(runID): schemas dropped")
        }
        try connection.execute("SELECT pg_advisory_unlock(\(WarehouseRun.lockSpace), hashtext(\(runID.rawValue)))")
    }

    /// The comment on the schemas of a run kept on purpose: `recon gc` leaves them alone.
    public static let keptMarker = "recon: kept run"

    /// What the run's task sessions are called in `pg_stat_activity`.
    public static func applicationPrefix(_ runID: RunID) -> String { "recon-" + runID.rawValue }

    static func drop(schemas: [String], on connection: Connection) throws {
        try connection.transaction { connection in
            for schema in schemas {
                try connection.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
            }
        }
    }

    /// On SIGINT/SIGTERM the run's own connection may be mid-statement on the main thread, holding
    /// locks on the very tables to drop; so a fresh connection ends that session first, then drops.
    private static func interruptCleanup(
        target: ConnectionTarget, runID: RunID, schemas: [String], backendPID: Int32, keep: Bool
    ) -> @Sendable () -> Void {
        return {
            guard let connection = try? Connection(target, applicationName: "recon-cleanup") else { return }
            _ = try? connection.execute("SELECT pg_terminate_backend(\(backendPID))")
            // The run's task sessions (named after the run) are ended too: they hold its tables.
            _ = try? connection.execute("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE application_name LIKE \(WarehouseRun.applicationPrefix(runID) + "-%") AND pid <> pg_backend_pid()
                """)
            guard !keep else { return }
            _ = try? connection.execute("SET lock_timeout = '10s'")
            try? drop(schemas: schemas, on: connection)
        }
    }
}

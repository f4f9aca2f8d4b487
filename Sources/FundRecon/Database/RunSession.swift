import Logging
import Postgres

/// One run's ephemeral schemas on a database, guarded by a session advisory lock on the run id.
///
/// Opening takes the lock, then creates the schemas; closing drops them (unless kept) and releases
/// the lock. A run whose process died leaves its lock free, which is how `GarbageCollector` tells
/// its schemas from those of a live run. On SIGINT/SIGTERM every session of the run is ended
/// (they hold its tables) before the schemas are dropped.
public final class RunSession {
    /// The advisory-lock key space of FundRecon runs (the second key is `hashtext(run id)`).
    public static let lockSpace: Int32 = 0x5243
    /// The comment on the schemas of a run kept on purpose: `recon gc` leaves them alone.
    public static let keptMarker = "recon: kept run"
    /// The comment a run puts on its schemas when it creates them, followed by its id: `recon gc`
    /// drops only schemas that carry it (or `keptMarker`) and that the connecting role owns.
    public static let createdMarker = "recon: run "

    /// The run's id.
    public var runID: RunID { connections.runID }
    /// How the run's connections are made and named.
    public let connections: RunConnections
    /// The run's schema names.
    public let schemas: RunSchemas
    /// The connection that holds the run's lock.
    public let connection: Connection
    /// True when the schemas are left in place at the end.
    public let keepSchemas: Bool
    /// Whether closing says the schemas were kept (not when a caller drops them after the run).
    public var announcesKept = true
    private let interrupts: Interrupts?
    private var registration: Int?
    private var closed = false
    private let logger: Logger

    /// Opens a run: connects, takes its lock, creates its schemas. Throws a `RuntimeFailure` with
    /// the cause and fix when the database is unreachable or the role may not create schemas.
    public init(
        on target: ConnectionTarget, runID: RunID = .generate(), keepSchemas: Bool = false,
        interrupts: Interrupts? = nil, logger: Logger
    ) throws {
        connections = RunConnections(runID: runID, target: target)
        schemas = RunSchemas(runID: runID)
        self.keepSchemas = keepSchemas
        self.interrupts = interrupts
        self.logger = logger
        connection = try connections.connect("session")

        let role = try DatabaseRole.read(connection)
        guard role.mayCreateSchemas else {
            throw RuntimeFailure(cause: "role \(role.user) may not create schemas in database \(role.database)",
                                 fix: role.grant + ", or use another database")
        }
        let locked: Bool = try connection.query(
            "SELECT pg_try_advisory_lock(\(RunSession.lockSpace), hashtext(\(runID.rawValue)))"
        ).scalar()
        guard locked else {
            throw RuntimeFailure(cause: "run \(runID) is already open on this database", fix: "retry: run ids are random")
        }

        // Registered before the schemas exist, so an interrupt during creation still cleans up.
        registration = interrupts?.register(
            RunSession.interruptCleanup(connections: connections, schemas: schemas.all, keep: keepSchemas))
        try connection.transaction { connection in
            for schema in schemas.all {
                try connection.execute("CREATE SCHEMA \(identifier: schema)")
                try connection.execute(
                    "COMMENT ON SCHEMA \(identifier: schema) IS \(literal: RunSession.createdMarker + runID.rawValue)")
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
                try connection.execute("COMMENT ON SCHEMA \(identifier: schema) IS \(literal: RunSession.keptMarker)")
            }
            if announcesKept {
                logger.notice("run \(runID): schemas kept (\(schemas.all.joined(separator: ", ")))")
            }
        } else {
            try RunSession.drop(schemas: schemas.all, on: connection)
            logger.info("run \(runID): schemas dropped")
        }
        try connection.execute("SELECT pg_advisory_unlock(\(RunSession.lockSpace), hashtext(\(runID.rawValue)))")
    }

    static func drop(schemas: [String], on connection: Connection) throws {
        try connection.transaction { connection in
            for schema in schemas {
                try connection.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
            }
        }
    }

    /// On SIGINT/SIGTERM the run's sessions may be mid-statement, holding locks on the very tables
    /// to drop: a fresh connection ends every session of the run first, then drops.
    private static func interruptCleanup(connections: RunConnections, schemas: [String], keep: Bool) -> @Sendable () -> Void {
        return {
            guard let connection = try? Connection(connections.target, applicationName: "recon-cleanup") else { return }
            try? connections.terminateSessions(from: connection)
            guard !keep else { return }
            _ = try? connection.execute("SET lock_timeout = '10s'")
            try? drop(schemas: schemas, on: connection)
        }
    }
}

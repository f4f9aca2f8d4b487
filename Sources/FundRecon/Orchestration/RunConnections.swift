import Postgres

/// Where a run's connections go and what they are called: every session of a run carries the
/// application name `recon-<runid>-<purpose>`, so an interrupted run can end each one of them
/// (`pg_stat_activity`) before it drops its schemas.
public struct RunConnections: Sendable {
    /// The run the connections belong to.
    public let runID: RunID
    /// The database.
    public let target: ConnectionTarget

    public init(runID: RunID, target: ConnectionTarget) {
        self.runID = runID
        self.target = target
    }

    /// `recon-<runid>`: what every session name of the run starts with.
    public var applicationPrefix: String { "recon-" + runID.rawValue }

    /// A new connection named `recon-<runid>-<purpose>`; a failure is a `RuntimeFailure` with the cause and fix.
    public func connect(_ purpose: String) throws -> Connection {
        try ConnectionProblem.connect(target, applicationName: applicationPrefix + "-" + purpose)
    }

    /// Ends every session of the run except the caller's: what an interrupt does first.
    public func terminateSessions(from connection: Connection) throws {
        try connection.execute("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name LIKE \(applicationPrefix + "-%") AND pid <> pg_backend_pid()
            """)
    }
}

import Foundation
import Logging
import Postgres

/// Which database a command works on, decided from its flags and the environment.
public enum DatabaseChoice: Sendable, Equatable {
    /// A private throwaway cluster started for this process.
    case embedded
    /// An explicit server: `--db` or `RECON_DATABASE_URL`, or the libpq `PG*` environment.
    case server(ConnectionTarget)

    /// `--db` first, then `RECON_DATABASE_URL`, then `PGHOST`/`PGDATABASE`; otherwise embedded.
    public static func resolve(
        db: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> DatabaseChoice {
        if let db, !db.isEmpty { return .server(.url(db)) }
        if let url = environment["RECON_DATABASE_URL"], !url.isEmpty { return .server(.url(url)) }
        if environment["PGHOST"] != nil || environment["PGDATABASE"] != nil { return .server(.environment) }
        return .embedded
    }
}

/// A database ready for work: either a server given by the user, or an embedded cluster this
/// object owns (stopped and deleted by `close()` or when the object goes away).
public final class ProvidedDatabase {
    /// Where to connect.
    public let target: ConnectionTarget
    /// The embedded cluster, when one was started.
    public let cluster: EmbeddedCluster?
    private let interrupts: Interrupts?
    private let registration: Int?

    /// Starts the embedded cluster if the choice asks for it; a server choice is used as it is.
    public init(_ choice: DatabaseChoice, interrupts: Interrupts? = nil, logger: Logger) throws {
        self.interrupts = interrupts
        switch choice {
        case .embedded:
            let cluster = try EmbeddedCluster.start(logger: logger)
            self.cluster = cluster
            target = cluster.target
            registration = interrupts?.register(cluster.teardownAction)
        case .server(let target):
            self.target = target
            cluster = nil
            registration = nil
        }
    }

    /// `embedded`, or the server's connection string with the password masked (as results.json shows it).
    public var displayName: String { cluster == nil ? target.description : "embedded" }

    /// Opens a connection, turning a failure into one line with the cause and the fix.
    public func connect() throws -> Connection {
        try ConnectionProblem.connect(target)
    }

    /// Stops the embedded cluster, if any.
    public func close() {
        if let registration { interrupts?.remove(registration) }
        cluster?.stop()
    }

    deinit {
        close()
    }
}

/// Turns connection failures into a cause and a fix a user can act on.
public enum ConnectionProblem {
    /// Connects, or throws a `ClusterError` naming the cause and the fix.
    public static func connect(_ target: ConnectionTarget, applicationName: String = "recon") throws -> Connection {
        do {
            return try Connection(target, applicationName: applicationName)
        } catch let error as PostgresError {
            throw explain(error, target: target)
        }
    }

    /// The cause and fix for a failed connection.
    public static func explain(_ error: PostgresError, target: ConnectionTarget) -> ClusterError {
        let message = error.message.split(whereSeparator: { $0 == "\n" || $0 == "\t" }).joined(separator: " ")
        let lowered = message.lowercased()
        let fix: String
        if lowered.contains("password authentication failed") || lowered.contains("no password supplied") {
            fix = "check the user and password in --db (or PGPASSWORD / ~/.pgpass)"
        } else if lowered.contains("database") && lowered.contains("does not exist") {
            fix = "create the database (createdb NAME) or name an existing one in --db"
        } else if lowered.contains("role") && lowered.contains("does not exist") {
            fix = "create the role or name an existing user in --db"
        } else if lowered.contains("refused") || lowered.contains("no such file") || lowered.contains("could not translate")
            || lowered.contains("timeout") || lowered.contains("could not connect")
        {
            fix = "check that the server is running and that the host and port in --db are right"
        } else if lowered.contains("invalid") || lowered.contains("missing") {
            fix = "check the syntax of --db: postgres://user:password@host:port/database?sslmode=..."
        } else {
            fix = "check --db, or omit it to use the embedded PostgreSQL"
        }
        return ClusterError(cause: "cannot connect to \(target.description): \(message)", fix: fix)
    }
}

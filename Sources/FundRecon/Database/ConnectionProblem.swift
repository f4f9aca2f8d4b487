import Foundation
import Postgres

/// Turns connection failures into a cause and a fix a user can act on.
public enum ConnectionProblem {
    /// Connects, or throws a `RuntimeFailure` naming the cause and the fix.
    public static func connect(_ target: ConnectionTarget, applicationName: String = "recon") throws -> Connection {
        do {
            return try Connection(target, applicationName: applicationName)
        } catch let error as PostgresError {
            throw explain(error, target: target)
        }
    }

    /// The cause and fix for a failed connection.
    public static func explain(_ error: PostgresError, target: ConnectionTarget) -> RuntimeFailure {
        let message = error.message.split(whereSeparator: { $0 == "\n" || $0 == "\t" }).joined(separator: " ")
        let lowered = message.lowercased()
        let fix: String
        if lowered.contains("password authentication failed") || lowered.contains("no password supplied") {
            fix = "check the user and password in the connection URL (or PGPASSWORD / ~/.pgpass)"
        } else if lowered.contains("database") && lowered.contains("does not exist") {
            fix = "create the database (createdb NAME) or name an existing one in the connection URL"
        } else if lowered.contains("role") && lowered.contains("does not exist") {
            fix = "create the role or name an existing user in the connection URL"
        } else if lowered.contains("refused") || lowered.contains("no such file") || lowered.contains("could not translate")
            || lowered.contains("timeout") || lowered.contains("could not connect")
        {
            fix = "check that the server is running and that the host and port in the connection URL are right"
        } else if lowered.contains("invalid") || lowered.contains("missing") {
            fix = "check the connection URL's syntax: postgres://user:password@host:port/database?sslmode=..."
        } else {
            fix = "check the connection URL, or use the embedded PostgreSQL"
        }
        return RuntimeFailure(cause: "cannot connect to \(target.description): \(message)", fix: fix)
    }
}

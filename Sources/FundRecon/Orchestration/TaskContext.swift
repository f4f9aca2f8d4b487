import Foundation
import Logging
import Postgres

/// What a task attempt gets: connections of its own to the run's database (named after the run
/// and the task), the fault hook, the logger and the progress line. A connection closes when the
/// attempt's work lets go of it.
public struct TaskContext: Sendable {
    public let task: TaskID
    public let attempt: Int
    public let logger: Logger
    /// Prints one line of progress (the command line shows it unless `--quiet`).
    public let progress: @Sendable (String) -> Void
    let connections: RunConnections
    let faults: FaultPlan

    /// A connection of this attempt's own (tasks running side by side never share one), named
    /// `recon-<runid>-<task>`, or `...-<task>-<purpose>` for a second one.
    public func connect(_ purpose: String? = nil) throws -> Connection {
        try connections.connect(task.rawValue + (purpose.map { "-" + $0 } ?? ""))
    }

    /// Called by a task just before it commits: where injected faults strike (`RECON_INJECT_FAULT`
    /// ends the session from the server side, a real lost connection; `RECON_INJECT_PAUSE` waits,
    /// so a test can kill the process with the task's work written but not committed).
    public func checkpoint(_ connection: Connection) throws {
        if let seconds = faults.pause[task] {
            FileHandle.standardError.write(Data("recon: paused in \(task.rawValue) before commit (pid \(getpid()))\n".utf8))
            Thread.sleep(forTimeInterval: seconds)
        }
        if attempt <= faults.failures[task] ?? 0 {
            logger.warning("\(task.rawValue): injected fault on attempt \(attempt): terminating this task's session")
            try connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        }
    }

    /// Runs `body` in one transaction on a connection of the task's own (or `connection`), with
    /// the fault checkpoint just before the commit: an attempt that fails leaves nothing behind.
    public func inTransaction<T>(on connection: Connection? = nil, _ body: (Connection) throws -> T) throws -> T {
        let connection = try connection ?? connect()
        return try connection.transaction { connection in
            let value = try body(connection)
            try checkpoint(connection)
            return value
        }
    }
}

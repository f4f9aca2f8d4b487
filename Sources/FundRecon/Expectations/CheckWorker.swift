import Postgres

/// A connection the checks run on, one after another. A check whose query ends its own session
/// (`pg_terminate_backend(pg_backend_pid())`) errors alone: the next check gets a new session.
public final class CheckWorker: @unchecked Sendable {
    // Used by one thread at a time: each worker runs its share of the checks in sequence.
    private let open: (() throws -> Connection)?
    private var current: Connection?

    /// A worker on a connection the caller owns (not reopened when lost).
    public init(_ connection: Connection) {
        current = connection
        open = nil
    }

    /// A worker that opens its connection when first needed, and again when a check lost it.
    public init(open: @escaping () throws -> Connection) {
        self.open = open
    }

    /// The worker's connection, opened again when the last one was lost.
    func connection() throws -> Connection {
        if let current, current.isUsable || open == nil { return current }
        guard let open else { throw RuntimeFailure(cause: "the check connection is closed", fix: "retry") }
        current = nil
        let fresh = try open()
        current = fresh
        return fresh
    }
}

import Postgres

/// A model whose SQL PostgreSQL refused (exit code 3): the model's file and line, and the server's error.
public struct ModelFailure: ReconError, Sendable {
    /// The model.
    public var model: String
    /// Its file, relative to the pipeline folder.
    public var file: String
    /// The model line PostgreSQL's error position falls on, when it gave one.
    public var line: Int?
    /// PostgreSQL's SQLSTATE.
    public var sqlState: SQLState?
    /// PostgreSQL's message (with its detail and hint).
    public var message: String
    /// The pipeline folder the file is in.
    public var directory: String?
    /// A lost connection (with or without a SQLSTATE: a session ended under it has none), a
    /// deadlock or a serialization failure while the model ran: worth another attempt of its task.
    public var isTransient: Bool = false

    public var failureClass: FailureClass { .runtime }

    public var description: String {
        "\(directory.map { $0 + "/" } ?? "")\(file)\(line.map { ":\($0)" } ?? ""): model \(model) failed: "
            + "\(sqlState.map { "[\($0)] " } ?? "")\(message)"
    }
}

/// A bad pipeline file: the file, the line, and what is wrong (exit code 2).
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    /// The file, relative to the pipeline folder.
    public var file: String
    /// The 1-based line, when known.
    public var line: Int?
    /// What is wrong.
    public var message: String

    /// A pipeline error.
    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

/// A model whose SQL PostgreSQL refused (exit code 3): the model's file and line, and the server's error.
public struct ModelFailure: Error, Sendable, CustomStringConvertible {
    /// The model.
    public var model: String
    /// Its file, relative to the pipeline folder.
    public var file: String
    /// The model line PostgreSQL's error position falls on, when it gave one.
    public var line: Int?
    /// PostgreSQL's SQLSTATE.
    public var sqlState: String?
    /// PostgreSQL's message (with its detail and hint).
    public var message: String

    public var description: String {
        "model \(model) (\(file)\(line.map { ":\($0)" } ?? "")): \(sqlState.map { "[\($0)] " } ?? "")\(message)"
    }
}

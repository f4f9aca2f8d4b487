/// A bad pipeline file: the file, the line, and what is wrong (exit code 2).
public struct PipelineError: ReconError, Sendable {
    /// The file, relative to the pipeline folder.
    public var file: String
    /// The 1-based line, when known.
    public var line: Int?
    /// What is wrong.
    public var message: String
    /// The pipeline folder, once known: the description then names the file as a user finds it.
    public var directory: String?

    /// A pipeline error.
    public init(file: String, line: Int? = nil, message: String, directory: String? = nil) {
        self.file = file
        self.line = line
        self.message = message
        self.directory = directory
    }

    public var failureClass: FailureClass { .badInput }

    public var description: String {
        "\(directory.map { $0 + "/" } ?? "")\(file)\(line.map { ":\($0)" } ?? ""): \(message)"
    }

    /// The same error, placed in the pipeline folder `directory` (kept when already placed).
    func located(in directory: String) -> PipelineError {
        var error = self
        error.directory = error.directory ?? directory
        return error
    }
}

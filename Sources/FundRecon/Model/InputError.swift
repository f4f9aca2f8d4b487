/// Bad input: the file, the line or column when known, and what is wrong (exit code 2).
public struct InputError: ReconError, Sendable {
    /// The file.
    public var file: String
    /// The line, when the problem is on one.
    public var line: Int?
    /// The column, when the problem is about one.
    public var column: String?
    /// What is wrong.
    public var message: String

    /// An input error.
    public init(file: String, line: Int? = nil, column: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var failureClass: FailureClass { .badInput }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let column { text += "column \(column): " }
        return text + message
    }
}

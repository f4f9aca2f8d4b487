/// A value or request without the shape it must have (a period, a schema prefix, a task that
/// needs a landing folder): exit code 2. The command line names the flag the value came from.
public struct BadValue: ReconError, Sendable {
    /// What is wrong with it.
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var failureClass: FailureClass { .badInput }
    public var description: String { message }
}

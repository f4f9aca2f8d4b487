/// A run that could not be done, phrased as the cause and the fix (exit code 3): a database that
/// cannot be reached or made, a lock held too long, kept schemas that are not there.
public struct RuntimeFailure: ReconError, Sendable {
    /// What went wrong.
    public var cause: String
    /// What the user should do about it.
    public var fix: String?

    /// A failure with its cause and fix.
    public init(cause: String, fix: String) {
        self.cause = cause
        self.fix = fix
    }

    public var failureClass: FailureClass { .runtime }

    public var description: String { cause }
}

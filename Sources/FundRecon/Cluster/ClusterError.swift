/// A failure to provide a database, phrased as the cause and the fix.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var cause: String
    /// What the user should do about it.
    public var fix: String

    /// An error with its cause and fix.
    public init(cause: String, fix: String) {
        self.cause = cause
        self.fix = fix
    }

    public var description: String { "\(cause); fix: \(fix)" }
}

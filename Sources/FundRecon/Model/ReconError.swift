import Postgres
import XLSX

/// What kind of failure an error is: the class decides the exit code (DESIGN.md "Exit code"), so
/// the command line maps every error to its code in one place.
public enum FailureClass: Sendable, Equatable {
    /// A bad file, value or request: the user fixes the input (exit code 2).
    case badInput
    /// The work could not be done: a database, a model's SQL, a lock (exit code 3).
    case runtime

    /// The exit code DESIGN.md gives the class.
    public var exitCode: Int32 { self == .badInput ? 2 : 3 }
}

/// An error a user can act on: its description says what is wrong and where (file, line, check,
/// model or database), `fix` what to do when the description alone does not say it. Library
/// errors never name command-line flags: the command line adds those.
public protocol ReconError: Error, CustomStringConvertible {
    /// Bad input or a runtime failure.
    var failureClass: FailureClass { get }
    /// What to do about it, when that is not plain from the description.
    var fix: String? { get }
}

extension ReconError {
    public var fix: String? { nil }
}

/// PostgreSQL's own errors (an unreachable server, a refused statement) are runtime failures.
extension PostgresError: ReconError {
    public var failureClass: FailureClass { .runtime }
}

/// A workbook libxlsxwriter could not write is a runtime failure (exit code 3), never read as a
/// failed check.
extension XLSXError: ReconError {
    public var failureClass: FailureClass { .runtime }
}

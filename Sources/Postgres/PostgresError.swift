/// An error from PostgreSQL or libpq, carrying what a user needs to act on it.
///
/// Its `description` names the SQLSTATE, the server's message, detail and hint, and the
/// statement text with its `$n` placeholders; it never prints bound values or passwords.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Kind: Sendable, Equatable {
        /// The connection could not be established.
        case connection
        /// The server rejected a statement.
        case statement
        /// A COPY stream failed.
        case copy
        /// A value could not be decoded into the requested Swift type.
        case decoding
        /// The connection broke or libpq misbehaved.
        case protocolFailure
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The SQLSTATE (`23505`), when the server sent one.
    public var sqlState: SQLState?
    /// The primary message.
    public var message: String
    /// The server's DETAIL, if any.
    public var detail: String?
    /// The server's HINT, if any.
    public var hint: String?
    /// 1-based character position of the error in `statement`, if the server reported one.
    public var position: Int?
    /// The statement text (placeholders only, never values).
    public var statement: String?
    /// The connection target with any password masked, for connection failures.
    public var target: String?

    /// Creates an error; `target` must already be masked.
    public init(
        kind: Kind, sqlState: SQLState? = nil, message: String, detail: String? = nil, hint: String? = nil,
        position: Int? = nil, statement: String? = nil, target: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position
        self.statement = statement
        self.target = target
    }

    /// True when the error is a statement timeout or a cancel request (SQLSTATE 57014).
    public var isCancellation: Bool { sqlState == .queryCanceled }

    /// True for failures worth retrying: a lost connection, a serialization failure, a deadlock.
    public var isTransient: Bool {
        if kind == .protocolFailure { return true }
        return sqlState?.isTransient ?? false
    }

    public var description: String {
        var text = ""
        if let sqlState { text += "[\(sqlState)] " }
        text += message
        if let target { text += " (database: \(target))" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        if let statement {
            let shown = statement.count > 2_000 ? String(statement.prefix(2_000)) + " ..." : statement
            text += "\nSTATEMENT: \(shown)"
        }
        return text
    }
}

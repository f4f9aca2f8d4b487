/// A PostgreSQL error code (SQLSTATE): five characters, the first two naming its class.
///
/// The codes FundRecon acts on are named constants; compare with `==` or match with `~=`
/// (`case .queryCanceled:`). A literal (`"42P01"`) works where a name would be overkill, as in tests.
public struct SQLState: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The five-character code.
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        self.init(rawValue: value)
    }

    public var description: String { rawValue }

    /// The class: the first two characters (`08` connection exception, `42` syntax or access rule).
    public var errorClass: String { String(rawValue.prefix(2)) }

    /// True for failures worth another attempt: a lost connection, a serialization failure, a
    /// deadlock, or the session ended by the server.
    public var isTransient: Bool {
        errorClass == "08" || self == .serializationFailure || self == .deadlockDetected || self == .adminShutdown
    }

    // MARK: - The codes FundRecon acts on (PostgreSQL's Appendix A names)

    /// 40001: the transaction could not be serialized; retry it.
    public static let serializationFailure: SQLState = "40001"
    /// 40P01: a deadlock was detected and this transaction chosen to end it.
    public static let deadlockDetected: SQLState = "40P01"
    /// 57P01: the server (or an administrator) ended the session.
    public static let adminShutdown: SQLState = "57P01"
    /// 57014: the statement was cancelled (a statement timeout or a cancel request).
    public static let queryCanceled: SQLState = "57014"
    /// 55P03: a lock could not be taken within `lock_timeout`.
    public static let lockNotAvailable: SQLState = "55P03"
    /// 25006: a write was attempted in a READ ONLY transaction.
    public static let readOnlySQLTransaction: SQLState = "25006"
    /// 42501: the role lacks a privilege.
    public static let insufficientPrivilege: SQLState = "42501"
    /// 42P01: the table does not exist.
    public static let undefinedTable: SQLState = "42P01"
    /// 42703: the column does not exist.
    public static let undefinedColumn: SQLState = "42703"
    /// No function matches (also: a type without a hash function for `hash_record_extended`).
    public static let undefinedFunction: SQLState = "42883"

    /// Pattern matching in `switch` and `catch ... where`.
    public static func ~= (pattern: SQLState, value: SQLState?) -> Bool { value == pattern }
}

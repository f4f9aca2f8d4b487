import CLibPQ
import Foundation

/// One libpq connection. Blocking and not thread-safe: parallel work opens a connection per task.
///
/// The handle is freed when the connection is deallocated.
public final class Connection {
    private let handle: OpaquePointer
    /// The target this connection was opened with (print it: its password is masked).
    public let target: ConnectionTarget
    /// Called with the text of every statement sent to the server (for logging and for counting).
    public var statementObserver: ((String) -> Void)?
    /// Savepoints made by nested `transaction` calls (for unique names).
    private var savepoints = 0

    /// Opens a connection and sets the session up for FundRecon (UTF-8, ISO dates, quiet notices).
    public init(_ target: ConnectionTarget, applicationName: String = "recon") throws {
        // libpq's own complaint about an unreadable string may quote a password: ours quotes nothing.
        _ = try target.options()
        guard let handle = PQconnectdb(target.conninfo) else {
            throw PostgresError(kind: .connection, message: "libpq could not allocate a connection", target: target.description)
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Connection.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError(kind: .connection, message: message, target: target.description)
        }
        self.handle = handle
        self.target = target
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        if PQsetClientEncoding(handle, "UTF8") != 0 {
            throw PostgresError(kind: .connection, message: "cannot set client encoding to UTF8", target: target.description)
        }
        try execute("SET DateStyle = 'ISO, YMD'")
        try execute("SELECT set_config('application_name', \(applicationName), false)")
    }

    deinit {
        PQfinish(handle)
    }

    /// False once the session is lost (the server ended it, the network broke): open another.
    public var isUsable: Bool { PQstatus(handle) == CONNECTION_OK }

    /// The server's process id for this session.
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// The server version as an integer (`150018` for 15.18).
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// libpq's own version as an integer.
    public static var libraryVersion: Int { Int(PQlibVersion()) }

    // MARK: - Statements

    /// Runs one statement with its bound parameters and returns all its rows.
    @discardableResult
    public func query(_ sql: SQL) throws -> QueryResult {
        statementObserver?(sql.text)
        let result = withCStrings(sql.parameters) { values in
            PQexecParams(handle, sql.text, Int32(values.count), nil, values, nil, nil, 0)
        }
        return try QueryResult(checking: result, connection: handle, statement: sql.text)
    }

    /// Runs one statement, ignoring any rows; returns the number of rows it affected (0 if none).
    @discardableResult
    public func execute(_ sql: SQL) throws -> Int {
        try query(sql).affectedRows
    }

    /// Runs a script of several statements with no parameters (the simple query protocol).
    ///
    /// Only for SQL the program or the pipeline owns: bound values are not possible here.
    public func executeScript(_ script: String) throws {
        statementObserver?(script)
        let result = PQexec(handle, script)
        _ = try QueryResult(checking: result, connection: handle, statement: script)
    }

    /// Streams the rows of a large result one at a time (libpq single-row mode): memory stays flat.
    ///
    /// When `body` throws, the statement is cancelled, the connection drained, and the error rethrown.
    public func forEachRow(_ sql: SQL, _ body: (Row) throws -> Void) throws {
        statementObserver?(sql.text)
        let sent = withCStrings(sql.parameters) { values in
            PQsendQueryParams(handle, sql.text, Int32(values.count), nil, values, nil, nil, 0)
        }
        guard sent == 1 else { throw protocolError(statement: sql.text) }
        guard PQsetSingleRowMode(handle) == 1 else {
            drainResults()
            throw PostgresError(kind: .protocolFailure, message: "cannot enter single-row mode", statement: sql.text)
        }
        var failure: Error?
        while let result = PQgetResult(handle) {
            if failure != nil {
                PQclear(result)
                continue
            }
            let status = PQresultStatus(result)
            if status == PGRES_SINGLE_TUPLE {
                let single = QueryResult(owning: result)
                do {
                    try body(Row(result: single, index: 0))
                } catch {
                    failure = error
                    _ = makeCancelToken().cancel()
                }
            } else {
                do {
                    _ = try QueryResult(checking: result, connection: handle, statement: sql.text)
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
    }

    // MARK: - Transactions and session settings

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws. Inside
    /// a transaction already open, it is a savepoint instead: the outer transaction still decides
    /// what is committed (a plain BEGIN there would be ignored and its COMMIT end the outer one).
    public func transaction<T>(readOnly: Bool = false, _ body: (Connection) throws -> T) throws -> T {
        if PQtransactionStatus(handle) == PQTRANS_INTRANS {
            savepoints += 1
            let name = "recon_\(savepoints)"
            try execute("SAVEPOINT \(identifier: name)")
            do {
                let value = try body(self)
                try execute("RELEASE SAVEPOINT \(identifier: name)")
                return value
            } catch {
                _ = try? execute("ROLLBACK TO SAVEPOINT \(identifier: name)")
                throw error
            }
        }
        try execute(readOnly ? "BEGIN READ ONLY" : "BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            // The original error matters more than a failed rollback on a broken connection.
            _ = try? execute("ROLLBACK")
            throw error
        }
        try execute("COMMIT")
        return value
    }

    /// Runs `body` in a transaction that is always rolled back, whatever `body` did: nothing it
    /// wrote, created or set (large objects, temporary tables, session settings) outlives it. What
    /// a rollback cannot undo (session advisory locks, sessions ended) is the caller's to handle.
    public func rolledBack<T>(readOnly: Bool = true, _ body: (Connection) throws -> T) throws -> T {
        if PQtransactionStatus(handle) == PQTRANS_INTRANS {
            savepoints += 1
            let name = "recon_\(savepoints)"
            try execute("SAVEPOINT \(identifier: name)")
            defer { _ = try? execute("ROLLBACK TO SAVEPOINT \(identifier: name)") }
            return try body(self)
        }
        try execute(readOnly ? "BEGIN READ ONLY" : "BEGIN")
        defer { _ = try? execute("ROLLBACK") }
        return try body(self)
    }

    /// Sets the session's statement timeout; 0 turns it off.
    public func setStatementTimeout(milliseconds: Int) throws {
        try execute("SELECT set_config('statement_timeout', \(String(milliseconds)), false)")
    }

    /// A token that cancels whatever this connection is running, callable from any thread.
    public func makeCancelToken() -> CancelToken {
        CancelToken(PQgetCancel(handle))
    }

    // MARK: - Internals shared with COPY

    var rawHandle: OpaquePointer { handle }

    func protocolError(statement: String?) -> PostgresError {
        PostgresError(
            kind: .protocolFailure, message: Connection.trimmed(PQerrorMessage(handle)), statement: statement)
    }

    func drainResults() {
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown libpq error" }
        let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "unknown libpq error" : text
    }
}

/// Cancels the statement running on a connection; safe to use from any thread (libpq's `PQcancel`).
public final class CancelToken: @unchecked Sendable {
    // PGcancel is documented as safe to use from another thread or a signal handler.
    private let handle: OpaquePointer?

    init(_ handle: OpaquePointer?) {
        self.handle = handle
    }

    deinit {
        if let handle { PQfreeCancel(handle) }
    }

    /// Asks the server to cancel the running statement; true when the request was sent.
    @discardableResult
    public func cancel() -> Bool {
        guard let handle else { return false }
        var buffer = [CChar](repeating: 0, count: 256)
        return PQcancel(handle, &buffer, Int32(buffer.count)) == 1
    }
}

/// Calls `body` with the strings as NUL-terminated C strings (nil stays NULL), valid for the call only.
func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { copies.forEach { free($0) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}

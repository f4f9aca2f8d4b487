import CLibPQ

/// The complete result of a statement; owns libpq's result and frees it when deallocated.
public final class QueryResult {
    private let handle: OpaquePointer?

    /// The number of rows returned.
    public let count: Int
    /// The column names, in order.
    public let columns: [String]

    init(owning handle: OpaquePointer?) {
        self.handle = handle
        count = handle.map { Int(PQntuples($0)) } ?? 0
        let fields = handle.map { Int(PQnfields($0)) } ?? 0
        columns = (0..<fields).map { String(cString: PQfname(handle, Int32($0))) }
    }

    /// Takes ownership of `result` and throws a `PostgresError` when it reports a failure.
    convenience init(checking result: OpaquePointer?, connection: OpaquePointer, statement: String) throws {
        guard let result else {
            throw PostgresError(
                kind: .protocolFailure, message: Connection.trimmed(PQerrorMessage(connection)), statement: statement)
        }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_SINGLE_TUPLE
            || status == PGRES_EMPTY_QUERY
        else {
            let error = QueryResult.error(from: result, connection: connection, statement: statement)
            PQclear(result)
            throw error
        }
        self.init(owning: result)
    }

    deinit {
        if let handle { PQclear(handle) }
    }

    /// Rows affected by INSERT/UPDATE/DELETE/COPY ..., or 0.
    public var affectedRows: Int {
        guard let handle, let text = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    /// The rows, in order.
    public var rows: [Row] { (0..<count).map { Row(result: self, index: $0) } }

    /// The first row, if any.
    public var first: Row? { count > 0 ? Row(result: self, index: 0) : nil }

    /// The single value of a one-row, one-column result.
    public func scalar<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        guard count == 1, columns.count == 1 else {
            throw PostgresError(kind: .decoding, message: "expected one value, got \(count) rows of \(columns.count) columns")
        }
        return try Row(result: self, index: 0).decode(type, at: 0)
    }

    func text(row: Int, column: Int) -> String? {
        guard let handle, PQgetisnull(handle, Int32(row), Int32(column)) == 0 else { return nil }
        return String(cString: PQgetvalue(handle, Int32(row), Int32(column)))
    }

    static func error(from result: OpaquePointer, connection: OpaquePointer, statement: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let value = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: value)
        }
        let message = field("M") ?? Connection.trimmed(PQresultErrorMessage(result))
        let sqlState = field("C").map(SQLState.init(rawValue:))
        return PostgresError(
            kind: sqlState == nil ? .protocolFailure : .statement, sqlState: sqlState, message: message,
            detail: field("D"), hint: field("H"), position: field("P").flatMap { Int($0) }, statement: statement)
    }
}

/// One row of a result; decode its columns by position or name.
public struct Row {
    let result: QueryResult
    let index: Int

    /// The column names.
    public var columns: [String] { result.columns }

    /// The raw text of a column, nil for NULL.
    public func text(at column: Int) -> String? { result.text(row: index, column: column) }

    /// Decodes a column by position.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        guard column >= 0, column < result.columns.count else {
            throw PostgresError(kind: .decoding, message: "no column \(column) in a row of \(result.columns.count)")
        }
        guard let text = text(at: column) else { return try T.decodeNull() }
        do {
            return try T.decode(postgresText: text)
        } catch var error as PostgresError {
            error.message += " (column \(result.columns[column]))"
            throw error
        }
    }

    /// Decodes a column by name.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, named name: String) throws -> T {
        guard let column = result.columns.firstIndex(of: name) else {
            throw PostgresError(kind: .decoding, message: "no column named \(name)")
        }
        return try decode(type, at: column)
    }

    /// Every column as text (nil for NULL), in order.
    public var texts: [String?] { (0..<result.columns.count).map { text(at: $0) } }
}

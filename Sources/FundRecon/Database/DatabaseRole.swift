import Postgres

/// Who a connection is on the server, and whether it may create a run's schemas.
struct DatabaseRole {
    let user: String
    let database: String
    let mayCreateSchemas: Bool
    let serverVersion: String

    /// Reads the facts of the connection's role in one query.
    static func read(_ connection: Connection) throws -> DatabaseRole {
        let row = try connection.query("""
            SELECT current_user, current_database(), has_database_privilege(current_database(), 'CREATE'),
                   current_setting('server_version')
            """).first
        guard let row else { throw RuntimeFailure(cause: "no answer from the server", fix: "retry") }
        return DatabaseRole(user: try row.decode(at: 0), database: try row.decode(at: 1),
                            mayCreateSchemas: try row.decode(at: 2), serverVersion: try row.decode(at: 3))
    }

    /// The statement that lets this role create schemas.
    var grant: String { "GRANT CREATE ON DATABASE \(quoteIdentifier(database)) TO \(quoteIdentifier(user))" }
}

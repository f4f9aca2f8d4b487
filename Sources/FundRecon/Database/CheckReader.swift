import Foundation
import Logging
import Postgres

/// Who the checks log in as: the expectations file is code its authors wrote, and a `sql` check's
/// query runs as written, so it must run as a role that can read the run's tables and nothing
/// else: no server files, large objects kept, sessions of other roles, catalog secrets, or other
/// schemas. READ ONLY alone does not stop a function call; a role does.
public enum CheckRoleChoice: Sendable, Equatable {
    /// A role created for the run (`recon_reader_<runid>_<n>`, one per check connection) when the
    /// connecting role may create roles; otherwise the connecting role, unless it is privileged.
    case automatic
    /// An existing role, logging in to the same server and database (its password from
    /// `~/.pgpass`, `PGPASSFILE` or `PGPASSWORD`): `--check-role`.
    case role(String)
    /// A reading role's own connection string: `--reader-url`.
    case target(ConnectionTarget)
}

/// The check connections of one run and the role they log in as. Created roles get USAGE on the
/// schemas the checks read and SELECT on their tables, nothing more; they are dropped when the
/// checks end (and by the interrupt handler, and by `recon gc` when their run died).
public final class CheckReader: @unchecked Sendable {
    /// Created roles carry this comment followed by their run id: `recon gc` knows them by it.
    public static let roleMarker = "recon: check reader of run "
    /// The advisory-lock key space of live readers (the second key is `hashtext(role)`), held by
    /// the session that created them: `recon gc` drops only roles whose creator is gone.
    public static let lockSpace: Int32 = 0x5252

    /// How the checks log in, as the reports say it.
    public enum Kind: String, Sendable {
        case created = "role created for the run"
        case provided = "role given with --check-role or --reader-url"
        case connectingRole = "connecting role"
    }

    /// The role the checks run as (the first one, for created roles).
    public let role: String
    public let kind: Kind
    /// One target per check connection.
    private let targets: [ConnectionTarget]
    /// Roles this run created, dropped by `close`.
    private let created: [String]
    private let connections: RunConnections
    private let owner: Connection
    private let interrupts: Interrupts?
    private var registration: Int?
    private var closed = false

    private init(role: String, kind: Kind, targets: [ConnectionTarget], created: [String], connections: RunConnections,
                 owner: Connection, interrupts: Interrupts?) {
        self.role = role
        self.kind = kind
        self.targets = targets
        self.created = created
        self.connections = connections
        self.owner = owner
        self.interrupts = interrupts
    }

    deinit {
        close()
    }

    /// What the log and the reports say about it: `recon_reader_... (role created for the run)`.
    public var summary: String { "\(role) (\(kind.rawValue))" }

    /// A check connection: worker `n` logs in as its own role, so a check can end no session but its own.
    public func connect(worker: Int) throws -> Connection {
        let target = targets[min(worker, targets.count - 1)]
        return try ConnectionProblem.connect(target, applicationName: connections.applicationPrefix + "-run_checks-reader\(worker)")
    }

    /// Opens the reader: creates roles or takes the given one, and grants it `schemas`. `owner` is
    /// a connection of the connecting role, held open until `close()`.
    public static func open(
        _ choice: CheckRoleChoice, schemas: [String], workers: Int, connections: RunConnections, owner: Connection,
        interrupts: Interrupts?, logger: Logger
    ) throws -> CheckReader {
        let facts = try RoleFacts.read(owner)
        switch choice {
        case .role(let name):
            return try provided(connections.target.replacing(["user": name, "password": nil]), schemas: schemas,
                                connections: connections, owner: owner, facts: facts, interrupts: interrupts)
        case .target(let target):
            return try provided(target, schemas: schemas, connections: connections, owner: owner, facts: facts, interrupts: interrupts)
        case .automatic:
            guard facts.mayCreateRoles else {
                guard !facts.isPrivileged else {
                    throw RuntimeFailure(
                        cause: "the checks would run as \(facts.user), a privileged role that may not create a reader role for them",
                        fix: "grant it CREATEROLE, or pass --check-role NAME or --reader-url URL of a role that may only read")
                }
                logger.warning("""
                    checks run as the connecting role \(facts.user) (it may not create roles): READ ONLY and rolled back, \
                    but with its reads; give it CREATEROLE, or pass --check-role/--reader-url, for a role that reads only the run
                    """)
                return CheckReader(role: facts.user, kind: .connectingRole, targets: [connections.target], created: [],
                                   connections: connections, owner: owner, interrupts: interrupts)
            }
            return try createRoles(schemas: schemas, workers: workers, connections: connections, owner: owner,
                                   facts: facts, interrupts: interrupts)
        }
    }

    /// Creates one role per worker, grants them the schemas, and proves the first can log in.
    private static func createRoles(
        schemas: [String], workers: Int, connections: RunConnections, owner: Connection, facts: RoleFacts,
        interrupts: Interrupts?
    ) throws -> CheckReader {
        let names = (0..<max(1, workers)).map { "recon_reader_\(connections.runID.rawValue)_\($0 + 1)" }
        var targets: [ConnectionTarget] = []
        // Dropped by an interrupt from here on; the lock tells `recon gc` their creator is alive.
        let registration = interrupts?.register { [target = connections.target] in
            guard let cleanup = try? Connection(target, applicationName: "recon-cleanup") else { return }
            for name in names { try? drop(role: name, on: cleanup) }
        }
        let observer = owner.statementObserver
        owner.statementObserver = nil  // the statements carry the roles' passwords
        defer { owner.statementObserver = observer }
        try owner.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock(\(lockSpace), 0)")  // one ACL change at a time
            try sequentialOnCitus(connection)
            let limit = try connectionLimit(on: connection)
            for name in names {
                let password = randomPassword()
                try connection.execute("SELECT pg_advisory_lock(\(lockSpace), hashtext(\(name)))")
                try connection.execute("""
                    CREATE ROLE \(identifier: name) LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION \
                    NOBYPASSRLS CONNECTION LIMIT \(integer: limit) PASSWORD \(literal: password) VALID UNTIL \(literal: validUntil())
                    """)
                try connection.execute("COMMENT ON ROLE \(identifier: name) IS \(literal: roleMarker + connections.runID.rawValue)")
                try grant(schemas: schemas, to: name, on: connection)
                targets.append(try connections.target.replacing(["user": name, "password": password]))
            }
        }
        let reader = CheckReader(role: names[0], kind: .created, targets: targets, created: names, connections: connections,
                                 owner: owner, interrupts: interrupts)
        reader.registration = registration
        do {
            _ = try reader.connect(worker: 0)
        } catch let failure as RuntimeFailure {
            reader.close()
            throw RuntimeFailure(
                cause: "the role created for the checks cannot log in: \(failure.cause)",
                fix: "let roles named recon_reader_* log in with a password (pg_hba.conf: host|local <db> all scram-sha-256), "
                    + "or pass --check-role NAME or --reader-url URL of a role that may only read")
        }
        return reader
    }

    /// A role given by the user: it must not be privileged; it gets the run's schemas.
    private static func provided(
        _ target: ConnectionTarget, schemas: [String], connections: RunConnections, owner: Connection, facts: RoleFacts,
        interrupts: Interrupts?
    ) throws -> CheckReader {
        let probe = try ConnectionProblem.connect(target, applicationName: connections.applicationPrefix + "-run_checks-reader")
        let reader = try RoleFacts.read(probe)
        guard !reader.isPrivileged else {
            throw RuntimeFailure(cause: "the check role \(reader.user) is privileged (a superuser, or may read server files or end sessions)",
                                 fix: "give a role that may only read the warehouse")
        }
        if reader.user != facts.user {
            try owner.transaction { connection in
                try connection.execute("SELECT pg_advisory_xact_lock(\(lockSpace), 0)")
                try grant(schemas: schemas, to: reader.user, on: connection)
            }
        }
        return CheckReader(role: reader.user, kind: .provided, targets: [target], created: [], connections: connections,
                           owner: owner, interrupts: interrupts)
    }

    /// USAGE on each schema and SELECT on its tables and views, as they stand after the build.
    private static func grant(schemas: [String], to role: String, on connection: Connection) throws {
        for schema in schemas {
            try connection.execute("GRANT USAGE ON SCHEMA \(identifier: schema) TO \(identifier: role)")
            try connection.execute("GRANT SELECT ON ALL TABLES IN SCHEMA \(identifier: schema) TO \(identifier: role)")
        }
    }

    /// Drops the roles this run created (after ending their sessions). Safe to call more than once.
    public func close() {
        guard !closed else { return }
        closed = true
        if let registration { interrupts?.remove(registration) }
        for name in created {
            do {
                try Self.drop(role: name, on: owner)
            } catch {
                // Left for `recon gc`: the role is marked, and its lock is released with the session.
            }
        }
    }

    /// Ends the role's sessions (a superuser can), revokes what it was granted in this database,
    /// and drops it. Explicit revokes, not DROP OWNED: a role with CREATEROLE may revoke its own
    /// grants but is no member of the roles it created (PostgreSQL 15).
    static func drop(role: String, on connection: Connection) throws {
        _ = try? connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \(role)")
        try connection.transaction { connection in
            // GRANT and REVOKE rewrite a schema's or the database's row: concurrent runs take turns.
            try connection.execute("SELECT pg_advisory_xact_lock(\(lockSpace), 0)")
            try sequentialOnCitus(connection)
            let exists: Bool = try connection.query("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = \(role))").scalar()
            guard exists else { return }
            let schemas = try connection.query("""
                SELECT DISTINCT n.nspname FROM pg_namespace n, aclexplode(n.nspacl) a
                WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = \(role))
                """)
            for row in schemas.rows {
                let schema: String = try row.decode(at: 0)
                try connection.execute("REVOKE ALL ON ALL TABLES IN SCHEMA \(identifier: schema) FROM \(identifier: role)")
                try connection.execute("REVOKE ALL ON SCHEMA \(identifier: schema) FROM \(identifier: role)")
            }
            let granted: String? = try connection.query("""
                SELECT d.datname FROM pg_database d, aclexplode(d.datacl) a
                WHERE d.datname = current_database() AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = \(role)) LIMIT 1
                """).first?.decode(at: 0)
            if let granted { try connection.execute("REVOKE ALL ON DATABASE \(identifier: granted) FROM \(identifier: role)") }
            try connection.execute("DROP ROLE \(identifier: role)")
        }
        _ = try? connection.execute("SELECT pg_advisory_unlock(\(lockSpace), hashtext(\(role)))")
    }

    /// On Citus a role is created or dropped over one connection per node, so the transaction's
    /// grants and revokes on distributed tables must be too (else: "cannot create or modify role
    /// because there was a parallel operation"). A placeholder setting on plain PostgreSQL.
    /// How many sessions a reader role may hold on a node: its check session and one to spare. On
    /// Citus the role is created on every node with the same limit, and on a worker one check
    /// statement holds a connection per shard task it runs at once, up to the coordinator's
    /// executor pool (`citus.max_adaptive_executor_pool_size`, 16 by default): with a limit of 2, a
    /// 10M-order month's longer checks opened more and failed with "too many connections for role".
    static func connectionLimit(on connection: Connection) throws -> Int {
        let pool: String? = try connection.query(
            "SELECT current_setting('citus.max_adaptive_executor_pool_size', true)").first?.decode(String?.self, at: 0)
        return 2 + (pool.flatMap { Int($0) } ?? 0)
    }

    static func sequentialOnCitus(_ connection: Connection) throws {
        try connection.execute("SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true)")
    }

    /// 32 random hex digits: the role lives for one run and nobody types it.
    private static func randomPassword() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max, using: &generator)) }.joined()
    }

    /// A day from now: a role a crash left behind cannot log in after that, even before `recon gc`.
    private static func validUntil() -> String {
        ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400))
    }
}

/// What a role may do, read in one query.
struct RoleFacts {
    let user: String
    /// A superuser, or may create roles.
    let mayCreateRoles: Bool
    /// A superuser, or a member of a role that reads or writes server files, runs programs, ends
    /// other roles' sessions, or reads every table.
    let isPrivileged: Bool

    static let privilegedRoles = ["pg_read_server_files", "pg_write_server_files", "pg_execute_server_program",
                                  "pg_signal_backend", "pg_read_all_data", "pg_write_all_data"]

    static func read(_ connection: Connection) throws -> RoleFacts {
        let row = try connection.query("""
            SELECT r.rolname, r.rolsuper OR r.rolcreaterole,
                   r.rolsuper OR EXISTS (SELECT FROM unnest(\(texts: privilegedRoles)) AS p(name)
                                         WHERE pg_has_role(r.oid, p.name, 'USAGE'))
            FROM pg_roles r WHERE r.rolname = current_user
            """).first
        guard let row else { throw RuntimeFailure(cause: "the server does not know the connecting role", fix: "retry") }
        return RoleFacts(user: try row.decode(at: 0), mayCreateRoles: try row.decode(at: 1), isPrivileged: try row.decode(at: 2))
    }
}

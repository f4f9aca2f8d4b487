import Foundation
import Logging
import Postgres
import XLSX
import XMLReader

/// Checks what a new user needs: server programs, linked libraries, the embedded cluster, and
/// optionally a server given with `--db`.
package enum Doctor {
    /// Runs every check; a `server` target adds reachability and the CREATE privilege.
    package static func examine(
        server: ConnectionTarget?, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        var binariesFound = false
        do {
            let binaries = try ServerBinaries.locate(environment: environment)
            binariesFound = true
            findings.append(.init(ok: true, subject: "PostgreSQL server programs", detail: "\(binaries.directory) (\(binaries.version))"))
        } catch let error as RuntimeFailure {
            findings.append(.init(ok: false, subject: "PostgreSQL server programs", detail: error.cause, fix: error.fix))
        } catch {
            findings.append(.init(ok: false, subject: "PostgreSQL server programs", detail: "\(error)", fix: nil))
        }
        let libpq = Connection.libraryVersion
        findings.append(.init(ok: true, subject: "libpq", detail: "\(libpq / 10000).\(libpq % 10000)"))
        findings.append(.init(ok: true, subject: "libxml2", detail: XMLStreamReader.libraryVersion))
        findings.append(.init(ok: true, subject: "libxlsxwriter", detail: Workbook.libraryVersion))

        if binariesFound {
            findings.append(embeddedFinding(environment: environment, logger: logger))
        }
        if let server {
            findings.append(contentsOf: serverFindings(server))
        }
        return findings
    }

    private static func embeddedFinding(environment: [String: String], logger: Logger) -> DoctorFinding {
        let subject = "embedded PostgreSQL"
        let started = ContinuousClock.now
        do {
            let cluster = try EmbeddedCluster.start(environment: environment, logger: logger)
            defer { cluster.stop() }
            let connection = try Connection(cluster.target)
            let version: String = try connection.query("SHOW server_version").scalar()
            return .init(
                ok: true, subject: subject,
                detail: "started and accepted a connection in \(milliseconds(since: started)) ms (server \(version))"
                    + (cluster.serverUser.map { "; runs as the \($0) user" } ?? ""))
        } catch let error as RuntimeFailure {
            return .init(ok: false, subject: subject, detail: error.cause, fix: error.fix)
        } catch {
            return .init(ok: false, subject: subject, detail: "\(error)", fix: "read the server log (verbose output names it)")
        }
    }

    private static func serverFindings(_ target: ConnectionTarget) -> [DoctorFinding] {
        let subject = "database \(target.description)"
        let connection: Connection
        do {
            connection = try ConnectionProblem.connect(target)
        } catch let error as RuntimeFailure {
            return [.init(ok: false, subject: subject, detail: error.cause, fix: error.fix)]
        } catch {
            return [.init(ok: false, subject: subject, detail: "\(error)", fix: nil)]
        }
        var findings: [DoctorFinding] = []
        do {
            let role = try DatabaseRole.read(connection)
            findings.append(.init(ok: true, subject: subject, detail: "reachable as \(role.user) (server \(role.serverVersion))"))
            findings.append(
                role.mayCreateSchemas
                    ? .init(ok: true, subject: "schema creation", detail: "\(role.user) may create schemas in \(role.database)")
                    : .init(ok: false, subject: "schema creation", detail: "\(role.user) may not create schemas in \(role.database)",
                            fix: role.grant))
            findings.append(checkRoleFinding(target, connection: connection))
            findings.append(citusFinding(connection))
        } catch {
            findings.append(.init(ok: false, subject: subject, detail: "\(error)", fix: nil))
        }
        return findings
    }

    /// Whether the server is a Citus coordinator: Citus' version, its workers, and whether each
    /// answers the coordinator (asked through `run_command_on_workers`, as distributed work is).
    private static func citusFinding(_ connection: Connection) -> DoctorFinding {
        let subject = "Citus"
        do {
            guard let version = try connection.query("SELECT extversion FROM pg_extension WHERE extname = 'citus'").first
                .map({ try $0.decode(String.self, at: 0) })
            else {
                return .init(ok: true, subject: subject, detail: "not in this database: a single PostgreSQL server")
            }
            guard try connection.query("SELECT citus_is_coordinator()").scalar(Bool.self) else {
                return .init(ok: false, subject: subject, detail: "Citus \(version) here, but this server is not the coordinator",
                             fix: "give --db the coordinator's URL (its citus_set_coordinator_host)")
            }
            let workers = try connection.query("""
                SELECT nodename || ':' || nodeport, success, result FROM run_command_on_workers('SELECT 1') ORDER BY 1
                """).rows.map { row in
                (node: try row.decode(String.self, at: 0), answers: try row.decode(Bool.self, at: 1), result: try row.decode(String.self, at: 2))
            }
            if workers.isEmpty {
                return .init(ok: true, subject: subject,
                             detail: "coordinator, Citus \(version), no workers: distributed tables stay on the coordinator")
            }
            let listed = workers.map { "\($0.node) \($0.answers ? "reachable" : "unreachable (\($0.result))")" }.joined(separator: ", ")
            let down = workers.filter { !$0.answers }.map(\.node)
            return .init(
                ok: down.isEmpty, subject: subject,
                detail: "coordinator, Citus \(version), \(workers.count) worker\(workers.count == 1 ? "" : "s"): \(listed)",
                fix: down.isEmpty ? nil : "start \(down.joined(separator: ", ")) or take it out with citus_disable_node")
        } catch {
            return .init(ok: false, subject: subject, detail: "\(error)", fix: nil)
        }
    }

    /// Who the checks would run as on this server: a reader role created for the run (tried: it
    /// is created, logs in and is dropped), or the connecting role, or nobody (a privileged role
    /// that may not create one).
    private static func checkRoleFinding(_ target: ConnectionTarget, connection: Connection) -> DoctorFinding {
        let subject = "check role"
        do {
            let facts = try RoleFacts.read(connection)
            guard facts.mayCreateRoles else {
                if facts.isPrivileged {
                    return .init(ok: false, subject: subject,
                                 detail: "\(facts.user) is privileged and may not create a reader role: checks would be refused",
                                 fix: "grant it CREATEROLE, or pass --check-role NAME or --reader-url URL of a role that may only read")
                }
                return .init(ok: true, subject: subject, detail: """
                    checks run as \(facts.user) (it may not create roles), READ ONLY and rolled back; for a role that reads \
                    only the run, grant it CREATEROLE or pass --check-role/--reader-url
                    """)
            }
            var logger = Logger(label: "doctor")
            logger.logLevel = .critical
            let reader = try CheckReader.open(.automatic, schemas: [], workers: 1,
                                              connections: RunConnections(runID: .generate(), target: target),
                                              owner: connection, interrupts: nil, logger: logger)
            reader.close()
            return .init(ok: true, subject: subject,
                         detail: "each run's checks log in as a role created for them that may only read the run's tables (tried)")
        } catch let failure as RuntimeFailure {
            return .init(ok: false, subject: subject, detail: failure.cause, fix: failure.fix)
        } catch {
            return .init(ok: false, subject: subject, detail: "\(error)", fix: nil)
        }
    }
}

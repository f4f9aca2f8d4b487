import Foundation
import Postgres
import Testing

@testable import FundRecon

/// Expectations are code their authors wrote: the checks must run with least privilege.
@Suite("Checks run as a role that may only read the run", .serialized)
struct CheckReaderTests {
    static let hostileFile = repositoryRoot + "/Tests/Fixtures/hostile_checks.yml"
    static let exportPath = "/tmp/recon-hostile-export"

    /// A run with one ods_orders row, a victim table in `public`, a victim session of the
    /// superuser, and dblink installed: what the attacks of the hostile file aim at.
    final class Scene {
        let run: RunSession
        let admin: Connection
        let victim: Connection
        /// This scene's row of the victim table. The table is shared with the CLI's hostile run
        /// test (same cluster, same fixture file): each inserts its own row and never drops it.
        let secret = "the victim row \(UUID().uuidString)"

        init() throws {
            admin = try SharedCluster.connect()
            try admin.executeScript("""
                CREATE EXTENSION IF NOT EXISTS dblink;
                CREATE TABLE IF NOT EXISTS public.recon_hostile_victim (secret text);
                """)
            try admin.execute("INSERT INTO public.recon_hostile_victim VALUES (\(secret))")
            victim = try Connection(SharedCluster.target(), applicationName: "recon-hostile-victim")
            unlink(CheckReaderTests.exportPath)
            run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
            try run.connection.execute("CREATE TABLE \(schema: run.schemas.name(.ods), table: "ods_orders") AS SELECT 1 AS order_id")
        }

        deinit {
            try? run.close()
        }

        var largeObjects: Int { (try? admin.query("SELECT count(*) FROM pg_largeobject_metadata").scalar(Int.self)) ?? -1 }

        var readerRoles: Int {
            (try? admin.query("SELECT count(*) FROM pg_roles WHERE rolname LIKE \("recon_reader_" + run.runID.rawValue + "%")")
                .scalar(Int.self)) ?? -1
        }

        /// Evaluates `file` as the run's checks do: access, reader roles, two workers.
        func evaluate(_ file: ExpectationsFile) throws -> (results: [CheckResult], reader: CheckReader) {
            let owner = try run.connections.connect("owner")
            let access = try CheckAccess.of(file, runSchemas: run.schemas.all, on: owner)
            let reader = try CheckReader.open(.automatic, schemas: access.schemas, workers: 2, connections: run.connections,
                                              owner: owner, interrupts: nil, logger: quietLogger)
            defer { reader.close() }
            let engine = CheckEngine(resolver: TableResolver(schemas: run.schemas, project: nil))
            let workers = (0..<2).map { worker in CheckWorker { try reader.connect(worker: worker) } }
            return (try engine.evaluate(file, workers: workers, logger: quietLogger), reader)
        }
    }

    @Test func everyAttackIsTheChecksErrorAndNothingIsWrittenReadOrKilled() throws {
        let scene = try Scene()
        let largeObjects = scene.largeObjects
        let file = try ExpectationsParser.parse(file: Self.hostileFile)
        let (results, reader) = try scene.evaluate(file)
        #expect(reader.kind == .created)
        #expect(reader.role.hasPrefix("recon_reader_" + scene.run.runID.rawValue))
        #expect(results.count == file.checks.count)
        for result in results {
            if result.id.hasPrefix("after_") {
                #expect(result.status == .pass, "\(result.id): \(result.status) \(result.message ?? "")")
            } else {
                #expect(result.status == .error, "\(result.id) was not refused: \(result.status) \(result.sample)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: Self.exportPath), "a check wrote a server file")
        #expect(scene.largeObjects == largeObjects, "a check left a large object")
        #expect(try scene.admin.query("SELECT count(*) FROM public.recon_hostile_victim WHERE secret = \(scene.secret)").scalar(Int.self) == 1)
        #expect(try scene.victim.query("SELECT 1").scalar(Int.self) == 1, "a check ended another role's session")
        let shown = results.map { "\($0.message ?? "") \($0.sample)" }.joined()
        #expect(!shown.contains("root:x:0"))
        #expect(!shown.contains("SCRAM-SHA-256$"))
        #expect(!shown.contains("the victim row"))
        #expect(scene.readerRoles == 0, "the run's reader roles outlived its checks")
    }

    /// What READ ONLY lets through (a large object made by a function, a session setting, a
    /// session lock) is undone after each check: the transaction is rolled back, locks released.
    @Test func whatACheckLeavesInItsSessionDoesNotOutliveIt() throws {
        let scene = try Scene()
        let largeObjects = scene.largeObjects
        let file = try ExpectationsParser.parse(text: """
            version: 1
            checks:
              - {id: make_a_large_object, type: sql, query: "select lo_from_bytea(0, 'x'::bytea) as oid"}
              - {id: set_for_later, type: sql, query: "select set_config('statement_timeout', '1', false) as t, set_config('search_path', 'nowhere', false) as p"}
              - {id: hold_a_lock, type: sql, query: "select pg_advisory_lock(4242) as locked where false"}
              - {id: later, type: sql, query: "select current_setting('statement_timeout') as t from pg_sleep(0.05) where current_setting('statement_timeout') = '1'"}
              - {id: later_table, type: sql, query: "select order_id from ods_orders where order_id <> 1"}
            """, file: "leftovers.yml")
        let (results, _) = try scene.evaluate(file)
        let byID = Dictionary(uniqueKeysWithValues: results.map { ($0.id, $0) })
        #expect(byID["make_a_large_object"]?.status == .fail)
        #expect(scene.largeObjects == largeObjects)
        #expect(byID["later"]?.status == .pass, "\(byID["later"]?.message ?? "")")
        #expect(byID["later_table"]?.status == .pass, "\(byID["later_table"]?.message ?? "")")
        let locks: Int = try scene.admin.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242").scalar()
        #expect(locks == 0)
    }

    /// A run reads its own schemas (and recon_meta when named); `recon check` without a run reads
    /// what the file names and the connecting role's search_path, never a system schema.
    @Test func accessFollowsTheRunOrWhatTheFileNames() throws {
        let scene = try Scene()
        let owner = try scene.run.connections.connect("owner")
        let file = try ExpectationsParser.parse(text: """
            version: 1
            checks:
              - {id: a, type: sql, query: "select * from public.recon_hostile_victim join pg_catalog.pg_authid on true"}
              - {id: b, type: row_count, table: recon_meta.runs, min: 0}
            """, file: "names.yml")
        let run = try CheckAccess.of(file, runSchemas: scene.run.schemas.all, on: owner)
        #expect(run.schemas == scene.run.schemas.all + ["recon_meta"] || run.schemas == scene.run.schemas.all)
        #expect(!run.schemas.contains("public"))
        let none = try CheckAccess.of(file, runSchemas: nil, on: owner)
        #expect(none.schemas.contains("public"))
        #expect(!none.schemas.contains("pg_catalog"))
        #expect(none.searchPath == "public")
        #expect(CheckAccess.qualifiers(in: #"from "My ""Schema""".t, a . b, x.y"#) == ["My \"Schema\"", "a", "x"])
    }

    /// A role given with --check-role that may do more than read is refused; one that only reads is used.
    @Test func aPrivilegedCheckRoleIsRefused() throws {
        let scene = try Scene()
        let owner = try scene.run.connections.connect("owner")
        #expect(throws: RuntimeFailure.self) {
            _ = try CheckReader.open(.role("postgres"), schemas: scene.run.schemas.all, workers: 2, connections: scene.run.connections,
                                     owner: owner, interrupts: nil, logger: quietLogger)
        }
        let name = "recon_test_reader_\(UInt32.random(in: 0...UInt32.max))"
        try scene.admin.execute("CREATE ROLE \(identifier: name) LOGIN")
        defer { _ = try? scene.admin.execute("DROP OWNED BY \(identifier: name)"); _ = try? scene.admin.execute("DROP ROLE \(identifier: name)") }
        let reader = try CheckReader.open(.role(name), schemas: scene.run.schemas.all, workers: 2, connections: scene.run.connections,
                                          owner: owner, interrupts: nil, logger: quietLogger)
        #expect(reader.kind == .provided)
        let connection = try reader.connect(worker: 0)
        let count: Int = try connection.query("SELECT count(*) FROM \(schema: scene.run.schemas.name(.ods), table: "ods_orders")").scalar()
        #expect(count == 1)
    }
}

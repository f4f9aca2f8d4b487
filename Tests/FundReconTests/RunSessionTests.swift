import Foundation
import Postgres
import Testing

@testable import FundRecon

@Suite("Run schemas, advisory locks and garbage collection")
struct RunSessionTests {
    @Test func runIDsHaveOneShape() throws {
        let id = RunID.generate(at: Date(timeIntervalSince1970: 1_791_022_500))
        #expect(id.rawValue.hasPrefix("r20261003101500_"))
        #expect(RunID(id.rawValue) == id)
        #expect(RunID("r2026_bad") == nil)
        let schemas = RunSchemas(runID: id)
        #expect(schemas.name(.dws) == "rc_\(id)_dws")
        #expect(RunSchemas.runID(ofSchema: schemas.name(.ads)) == id)
        #expect(RunSchemas.runID(ofSchema: "rc_\(id)_other") == nil)
        #expect(RunSchemas.runID(ofSchema: "public") == nil)
    }

    @Test func openCreatesEveryLayerAndCloseDropsThem() throws {
        let run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        let names = run.schemas.all
        #expect(names.count == 5)
        #expect(try SharedCluster.existing(names) == Set(names))
        try run.connection.execute("CREATE TABLE \(schema: run.schemas.name(.ods), table: "ods_orders") (id int)")
        try run.close()
        #expect(try SharedCluster.existing(names).isEmpty)
    }

    @Test func keptSchemasStayAfterClose() throws {
        let run = try RunSession(on: SharedCluster.target(), keepSchemas: true, logger: quietLogger)
        let names = run.schemas.all
        try run.close()
        #expect(try SharedCluster.existing(names) == Set(names))
        // Kept on purpose is not crashed: gc leaves the run alone unless asked to take kept runs too.
        let report = try GarbageCollector.collect(on: SharedCluster.connect(), logger: quietLogger)
        #expect(report.kept.contains(run.runID))
        #expect(report.dropped[run.runID] == nil)
        #expect(try SharedCluster.existing(names) == Set(names))
        // (--kept, which takes every kept run of the server, is left out: other tests keep runs on this cluster.)
        try RunSession.drop(schemas: names, on: SharedCluster.connect())
    }

    @Test func concurrentRunsNeverTouchEachOther() throws {
        let first = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        let second = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        #expect(first.runID != second.runID)
        try first.close()
        #expect(try SharedCluster.existing(first.schemas.all).isEmpty)
        #expect(try SharedCluster.existing(second.schemas.all) == Set(second.schemas.all))
        try second.close()
    }

    @Test func gcDropsDeadRunsAndLeavesLiveOnes() throws {
        let live = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        defer { try? live.close() }
        // A dead run: its schemas exist, nobody holds its lock (as after SIGKILL).
        let deadID = RunID.generate()
        let dead = RunSchemas(runID: deadID)
        let connection = try SharedCluster.connect()
        for schema in dead.all {
            try connection.execute("CREATE SCHEMA \(identifier: schema)")
            try connection.execute("COMMENT ON SCHEMA \(identifier: schema) IS \(literal: RunSession.createdMarker + deadID.rawValue)")
        }
        try connection.execute("CREATE TABLE \(schema: dead.name(.dwd), table: "dwd_orders") (id int)")
        // Schemas that only look like a run's: made by hand (no marker), and marked but another role's.
        let lookalike = RunSchemas(runID: RunID.generate())
        let otherID = RunID.generate()
        let otherRole = RunSchemas(runID: otherID)
        let owner = "recon_gc_other_\(UInt32.random(in: 0...UInt32.max))"
        try connection.execute("CREATE ROLE \(identifier: owner)")
        defer {
            try? RunSession.drop(schemas: lookalike.all + otherRole.all, on: connection)
            _ = try? connection.execute("DROP ROLE \(identifier: owner)")
        }
        try connection.execute("CREATE SCHEMA \(identifier: lookalike.name(.ods))")
        try connection.execute("CREATE TABLE \(schema: lookalike.name(.ods), table: "precious") (id int)")
        try connection.execute("CREATE SCHEMA \(identifier: otherRole.name(.ods)) AUTHORIZATION \(identifier: owner)")
        try connection.execute(
            "COMMENT ON SCHEMA \(identifier: otherRole.name(.ods)) IS \(literal: RunSession.createdMarker + otherID.rawValue)")

        let report = try GarbageCollector.collect(on: SharedCluster.connect(), logger: quietLogger)
        #expect(report.foreign.contains(lookalike.name(.ods)))
        #expect(report.foreign.contains(otherRole.name(.ods)))
        #expect(try SharedCluster.existing([lookalike.name(.ods), otherRole.name(.ods)]).count == 2)
        #expect(Set(report.dropped[deadID] ?? []) == Set(dead.all))
        #expect(report.live.contains(live.runID))
        #expect(report.dropped[live.runID] == nil)
        #expect(try SharedCluster.existing(dead.all).isEmpty)
        #expect(try SharedCluster.existing(live.schemas.all) == Set(live.schemas.all))
    }

    @Test func roleWithoutCreateGetsTheGrantToRunAndNothingIsLeft() throws {
        let admin = try SharedCluster.connect()
        let role = "nocreate_\(UInt32.random(in: 0...UInt32.max))"
        try admin.execute("CREATE ROLE \(identifier: role) LOGIN")
        let target = try SharedCluster.target()
        let limited = ConnectionTarget.keywords(target.conninfo.replacingOccurrences(of: "user=postgres", with: "user=\(role)"))
        let error = try #require(throws: RuntimeFailure.self) {
            _ = try RunSession(on: limited, logger: quietLogger)
        }
        #expect(error.cause == "role \(role) may not create schemas in database postgres")
        #expect(error.fix?.hasPrefix("GRANT CREATE ON DATABASE \"postgres\" TO \"\(role)\"") == true)
        let owned: Int = try admin.query(
            "SELECT count(*) FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = \(role)"
        ).scalar()
        #expect(owned == 0)
    }

    @Test func unreachableServerIsOneLineWithAFix() throws {
        let error = try #require(throws: RuntimeFailure.self) {
            _ = try RunSession(on: .url("postgres://u:pw123456@127.0.0.1:1/db?connect_timeout=2"), logger: quietLogger)
        }
        #expect(error.cause.contains("Connection refused"))
        #expect(error.fix?.contains("server is running") == true)
        #expect(!error.description.contains("pw123456"))
        #expect(!error.description.contains("\n"))
    }

    @Test func doctorReportsEveryCheckAndTheServer() throws {
        let findings = Doctor.examine(server: try SharedCluster.target(), logger: quietLogger)
        let subjects = findings.map(\.subject)
        #expect(subjects.contains("PostgreSQL server programs"))
        #expect(subjects.contains("embedded PostgreSQL"))
        #expect(subjects.contains("schema creation"))
        let notOK = findings.filter { !$0.ok }
        #expect(notOK.isEmpty, "\(notOK)")
        let broken = Doctor.examine(
            server: .url("postgres://127.0.0.1:1/x?connect_timeout=2"), environment: ["RECON_PG_BINDIR": "/nope"],
            logger: quietLogger)
        let failures = broken.filter { !$0.ok }
        #expect(failures.count == 2)
        #expect(failures.allSatisfy { $0.fix != nil })
    }
}

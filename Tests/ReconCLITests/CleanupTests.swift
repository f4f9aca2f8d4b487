import Foundation
import Postgres
import Testing

@Suite("recon cleans up after itself, whatever ends it", .serialized)
struct CleanupTests {
    @Test func sigintStopsAndDeletesTheEmbeddedCluster() throws {
        let process = try ReconProcess.start(["hold", "--seconds", "120"])
        try process.waitUntilReady()
        let directory = try #require(process.value("cluster_dir"))
        #expect(FileManager.default.fileExists(atPath: directory + "/data/PG_VERSION"))
        let postmaster = try String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8)
        let serverPID = try #require(Int32(postmaster.split(separator: "\n")[0]))

        process.send(SIGINT)
        #expect(try process.wait() == 130)
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(serverIsGone(serverPID))
        #expect(process.output.contains("SIGINT received, cleaning up"))
    }

    /// True once the process no longer exists or is only a zombie waiting for init to reap it.
    func serverIsGone(_ pid: Int32) -> Bool {
        for _ in 0..<100 {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            if kill(pid, 0) == -1 || status.contains("State:\tZ") { return true }
            usleep(50_000)
        }
        return false
    }

    @Test func sigintDropsTheRunsSchemasOnAServer() throws {
        let db = try ServerUnderTest.target().conninfo
        let process = try ReconProcess.start(["hold", "--seconds", "120", "--db", db])
        try process.waitUntilReady()
        let schemas = try #require(process.value("schemas")).split(separator: ",").map(String.init)
        #expect(schemas.count == 5)
        #expect(try ServerUnderTest.schemaCount(schemas) == 5)
        process.send(SIGINT)
        #expect(try process.wait() == 130)
        #expect(try ServerUnderTest.schemaCount(schemas) == 0)
    }

    /// Checks run on two connections of the run: an interrupt in the middle of them ends both
    /// sessions (the second one too, which the check engine opens for itself) before the run's
    /// schemas are dropped.
    @Test func sigintDuringTheChecksEndsEverySessionOfTheRunAndDropsItsSchemas() throws {
        let db = try ServerUnderTest.target().conninfo
        let directory = NSTemporaryDirectory() + "recon-slow-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("""
            version: 1
            checks:
              - {id: slow_one, type: sql, table: dwd_orders, query: "SELECT 1 AS x FROM pg_sleep(60) WHERE random() < 0"}
              - {id: slow_two, type: sql, table: dwd_orders, query: "SELECT 2 AS x FROM pg_sleep(60) WHERE random() < 0"}
            """.utf8).write(to: URL(fileURLWithPath: directory + "/slow.yml"))
        let process = try ReconProcess.start([
            "audit", "--db", db, "--generate", "--days", "2", "--orders-per-day", "20", "--expectations", directory + "/slow.yml",
            "--pipeline", AuditCommandTests.root + "/pipeline", "--reports", directory + "/reports",
        ])
        let admin = try Connection(ServerUnderTest.target())
        // Both checks are asleep, each on its own session.
        func sleeping() throws -> [String] {
            try admin.query("""
                SELECT application_name FROM pg_stat_activity
                WHERE query LIKE '%pg_sleep(60)%' AND state = 'active' AND pid <> pg_backend_pid()
                """).rows.map { try $0.decode(String.self, at: 0) }
        }
        var runID = ""
        let deadline = Date().addingTimeInterval(120)
        while runID.isEmpty {
            let names = try sleeping()
            if names.count == 2, let name = names.first(where: { $0.contains("-run_checks") }) {
                runID = String(name.dropFirst("recon-".count).prefix(22))
            }
            guard Date() < deadline else { throw ReconProcess.Failure("the checks never started: \(process.output)") }
            usleep(100_000)
        }
        process.send(SIGINT)
        #expect(try process.wait() == 130)
        var remaining: [String] = []
        for _ in 0..<50 {
            remaining = try sleeping() + admin.query(
                "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE \("recon-" + runID + "-%")"
            ).rows.map { try $0.decode(String.self, at: 0) }
            if remaining.isEmpty { break }
            usleep(100_000)
        }
        #expect(remaining.isEmpty, "sessions of run \(runID) still open: \(remaining)")
        #expect(try ServerUnderTest.schemaCount(["oltp", "ods", "dwd", "dws", "ads"].map { "rc_\(runID)_\($0)" }) == 0)
        // The dataset the run generated for itself went with it, and so did its check reader roles.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())
            .filter { $0.hasPrefix("recon-") && $0.contains(runID) }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let readers: Int = try admin.query("SELECT count(*) FROM pg_roles WHERE rolname LIKE \("recon_reader_" + runID + "%")").scalar()
        #expect(readers == 0)
    }

    @Test func gcRemovesAKilledRunAndLeavesALiveOne() throws {
        let db = try ServerUnderTest.target().conninfo
        let killed = try ReconProcess.start(["hold", "--seconds", "120", "--db", db])
        let live = try ReconProcess.start(["hold", "--seconds", "120", "--db", db])
        try killed.waitUntilReady()
        try live.waitUntilReady()
        let killedSchemas = try #require(killed.value("schemas")).split(separator: ",").map(String.init)
        let liveSchemas = try #require(live.value("schemas")).split(separator: ",").map(String.init)
        let killedID = try #require(killed.value("run_id"))
        let liveID = try #require(live.value("run_id"))

        killed.send(SIGKILL)
        #expect(try killed.wait() == 128 + SIGKILL)
        #expect(try ServerUnderTest.schemaCount(killedSchemas) == 5)

        // The server notices the dead client's socket at once, but give it a moment to end the session.
        var collected = ""
        for _ in 0..<40 {
            let result = try ReconProcess.run(["gc", "--db", db])
            #expect(result.status == 0)
            collected += result.output
            if try ServerUnderTest.schemaCount(killedSchemas) == 0 { break }
            usleep(100_000)
        }
        #expect(try ServerUnderTest.schemaCount(killedSchemas) == 0)
        #expect(try ServerUnderTest.schemaCount(liveSchemas) == 5)
        #expect(collected.contains("dropped run \(killedID)"))
        #expect(collected.contains("live run \(liveID): left alone"))

        live.send(SIGTERM)
        #expect(try live.wait() == 128 + SIGTERM)
        #expect(try ServerUnderTest.schemaCount(liveSchemas) == 0)
    }
}

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

import Foundation
import Postgres
import Testing

@testable import FundRecon

/// A coordinator and a worker of Citus (distributed PostgreSQL) on this machine, on Unix sockets
/// only, as `recon` would be given with `--db`. Citus comes from `make citus` (which `make test`
/// and CI run first): without it these tests fail and say so.
@Suite("Citus: a coordinator and its workers", .serialized)
struct CitusTests {
    static var installed: Bool {
        guard let binaries = try? ServerBinaries.locate() else { return false }
        let lib = ((binaries.directory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("lib/citus.so")
        return FileManager.default.fileExists(atPath: lib)
    }

    /// Starts a node with Citus loaded and the extension created.
    static func node() throws -> EmbeddedCluster {
        let cluster = try EmbeddedCluster.start(options: .init(preloadLibraries: ["citus"]), logger: quietLogger)
        try Connection(cluster.target).execute("CREATE EXTENSION citus")
        return cluster
    }

    @Test func doctorNamesTheCoordinatorItsWorkersAndWhetherTheyAnswer() throws {
        try #require(CitusTests.installed, "Citus is not installed in PostgreSQL 15: run `make citus`")
        let coordinator = try CitusTests.node()
        defer { coordinator.stop() }
        let worker = try CitusTests.node()
        defer { worker.stop() }
        let connection = try Connection(coordinator.target)
        try connection.execute("SELECT citus_set_coordinator_host(\(coordinator.directory), 5432)")
        try connection.execute("SELECT citus_add_node(\(worker.directory), 5432)")

        let citus = { () throws -> DoctorFinding in
            try #require(Doctor.examine(server: coordinator.target, logger: quietLogger).first { $0.subject == "Citus" })
        }
        let up = try citus()
        #expect(up.ok, "\(up)")
        #expect(up.detail.contains("coordinator, Citus 13."))
        #expect(up.detail.contains("1 worker: \(worker.directory):5432 reachable"), "\(up.detail)")

        worker.stop()
        let down = try citus()
        #expect(!down.ok)
        #expect(down.detail.contains("\(worker.directory):5432 unreachable"), "\(down.detail)")
        #expect(down.fix?.contains("citus_disable_node") == true)
    }

    @Test func doctorSaysAPlainServerIsNotCitus() throws {
        let findings = Doctor.examine(server: try SharedCluster.target(), logger: quietLogger)
        let citus = try #require(findings.first { $0.subject == "Citus" })
        #expect(citus.ok)
        #expect(citus.detail == "not in this database: a single PostgreSQL server")
    }
}

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

    /// `--embedded-citus N`: a coordinator and N workers on sockets, registered, spreading a
    /// distributed table's shards over the workers; every node gone when it is closed.
    @Test func anEmbeddedTopologyRegistersItsWorkersAndLeavesNothingBehind() throws {
        try #require(CitusTests.installed, "Citus is not installed in PostgreSQL 15: run `make citus`")
        let database = try ProvidedDatabase(.embeddedCitus(workers: 2), logger: quietLogger)
        let topology = try #require(database.topology)
        let directories = topology.nodes.map(\.directory)
        #expect(directories.count == 3)
        #expect(database.displayName == "embedded Citus (2 workers)")
        let citus = try #require(Doctor.examine(server: database.target, logger: quietLogger).first { $0.subject == "Citus" })
        #expect(citus.ok && citus.detail.contains("2 workers"), "\(citus.detail)")
        let connection = try Connection(database.target)
        try connection.execute("CREATE TABLE spread (id bigint, amount numeric(18,2))")
        try connection.execute("SELECT create_distributed_table('spread', 'id')")
        try connection.execute("INSERT INTO spread SELECT i, i * 0.01 FROM generate_series(1, 1000) i")
        #expect(try connection.query("SELECT sum(amount)::text FROM spread").scalar(String.self) == "5005.00")
        let placed: Int = try connection.query("SELECT count(DISTINCT nodename) FROM citus_shards WHERE table_name = 'spread'::regclass").scalar()
        #expect(placed == 2, "the shards are on both workers")
        database.close()
        #expect(directories.allSatisfy { !FileManager.default.fileExists(atPath: $0) }, "a node's directory is left")
    }

    @Test func doctorSaysAPlainServerIsNotCitus() throws {
        let findings = Doctor.examine(server: try SharedCluster.target(), logger: quietLogger)
        let citus = try #require(findings.first { $0.subject == "Citus" })
        #expect(citus.ok)
        #expect(citus.detail == "not in this database: a single PostgreSQL server")
    }
}

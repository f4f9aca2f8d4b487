import Foundation
import Logging
import Postgres

/// A local Citus cluster for development and tests: a coordinator and `workers` workers, each an
/// embedded cluster (Unix socket only) with `shared_preload_libraries = 'citus'`, the workers
/// registered with the coordinator by their socket directories. Every node is stopped and deleted
/// by `stop()`, on deinit, by the interrupt handler and by each node's watchdog, as the embedded
/// default is.
public final class CitusTopology {
    public let coordinator: EmbeddedCluster
    public let workers: [EmbeddedCluster]
    private var stopped = false

    /// Starts the nodes and registers the workers; a `RuntimeFailure` when Citus is not installed.
    public static func start(workers count: Int, logger: Logger) throws -> CitusTopology {
        guard count >= 1 else { throw BadValue("a Citus topology needs at least one worker") }
        let binaries = try ServerBinaries.locate()
        let library = ((binaries.directory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("lib/citus.so")
        guard FileManager.default.fileExists(atPath: library) else {
            throw RuntimeFailure(cause: "Citus is not installed in PostgreSQL \(binaries.version) (no \(library))",
                                 fix: "run `make citus` (../shared/citus/install.sh) or install Citus Data's package")
        }
        var started: [EmbeddedCluster] = []
        do {
            for _ in 0...count {
                let node = try EmbeddedCluster.start(options: .init(preloadLibraries: ["citus"], maxConnections: 300), logger: logger)
                started.append(node)
                let connection = try Connection(node.target)
                try connection.execute("CREATE EXTENSION IF NOT EXISTS citus")
                // A node that connects to itself (local execution off, repartitioned work) uses
                // citus.local_hostname, 'localhost' by default: here only its socket answers.
                try connection.execute(SQL(unsafeSQL: "ALTER SYSTEM SET citus.local_hostname = " + quoteLiteral(node.directory)))
                try connection.execute("SELECT pg_reload_conf()")
            }
            let topology = CitusTopology(coordinator: started[0], workers: Array(started.dropFirst()))
            let connection = try Connection(topology.coordinator.target)
            try connection.execute("SELECT citus_set_coordinator_host(\(topology.coordinator.directory), \(topology.coordinator.port))")
            for worker in topology.workers {
                try connection.execute("SELECT citus_add_node(\(worker.directory), \(worker.port))")
            }
            logger.info("Citus coordinator \(topology.coordinator.directory) with \(count) worker(s) started")
            return topology
        } catch {
            for node in started { node.stop() }
            throw error
        }
    }

    private init(coordinator: EmbeddedCluster, workers: [EmbeddedCluster]) {
        self.coordinator = coordinator
        self.workers = workers
    }

    deinit {
        stop()
    }

    /// Every node, coordinator first.
    public var nodes: [EmbeddedCluster] { [coordinator] + workers }

    /// Stops and deletes every node. Safe to call more than once.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        for node in nodes.reversed() { node.stop() }
    }

    /// The same teardown as `stop()`, for the interrupt handler.
    public var teardownAction: @Sendable () -> Void {
        let actions = nodes.map(\.teardownAction)
        return { for action in actions.reversed() { action() } }
    }
}

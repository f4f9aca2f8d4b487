import Foundation
import Logging
import Postgres

/// A database ready for work: either a server given by the user, or an embedded cluster this
/// object owns (stopped and deleted by `close()` or when the object goes away).
public final class ProvidedDatabase {
    /// Where to connect.
    public let target: ConnectionTarget
    /// The embedded cluster, when one was started (a Citus topology's coordinator).
    public let cluster: EmbeddedCluster?
    /// The embedded Citus topology, when one was started.
    public let topology: CitusTopology?
    private let interrupts: Interrupts?
    private let registration: Int?

    /// Starts the embedded cluster if the choice asks for it; a server choice is used as it is.
    public init(_ choice: DatabaseChoice, interrupts: Interrupts? = nil, logger: Logger) throws {
        self.interrupts = interrupts
        switch choice {
        case .embedded:
            let cluster = try EmbeddedCluster.start(logger: logger)
            self.cluster = cluster
            topology = nil
            target = cluster.target
            registration = interrupts?.register(cluster.teardownAction)
        case .embeddedCitus(let workers):
            let topology = try CitusTopology.start(workers: workers, logger: logger)
            self.topology = topology
            cluster = topology.coordinator
            target = topology.coordinator.target
            registration = interrupts?.register(topology.teardownAction)
        case .server(let target):
            self.target = target
            cluster = nil
            topology = nil
            registration = nil
        }
    }

    /// `embedded`, or the server's connection string with the password masked (as results.json shows it).
    public var displayName: String {
        topology.map { "embedded Citus (\($0.workers.count) worker\($0.workers.count == 1 ? "" : "s"))" }
            ?? (cluster == nil ? target.description : "embedded")
    }

    /// Opens a connection, turning a failure into one line with the cause and the fix.
    public func connect() throws -> Connection {
        try ConnectionProblem.connect(target)
    }

    /// Stops the embedded cluster, if any.
    public func close() {
        if let registration { interrupts?.remove(registration) }
        topology?.stop()
        cluster?.stop()
    }

    deinit {
        close()
    }
}

import FundRecon
import Postgres

/// One embedded cluster for the whole test process; each test works on its own connection and
/// temporary or uniquely named tables. The cluster's watchdog removes it when the process exits.
enum TestDatabase {
    nonisolated(unsafe) private static var cluster: EmbeddedCluster?
    private static let startOnce: Result<ConnectionTarget, Error> = {
        do {
            let started = try EmbeddedCluster.start()
            cluster = started
            return .success(started.target)
        } catch {
            return .failure(error)
        }
    }()

    /// The shared cluster's target.
    static func target() throws -> ConnectionTarget { try startOnce.get() }

    /// A fresh connection to the shared cluster.
    static func connect() throws -> Connection { try Connection(target()) }
}

import FundRecon
import Postgres

/// Tests share the process's embedded cluster; each works on its own connection and temporary
/// or uniquely named tables.
enum TestDatabase {
    /// A fresh connection to the shared cluster.
    static func connect() throws -> Connection { try Connection(EmbeddedCluster.shared()) }
}

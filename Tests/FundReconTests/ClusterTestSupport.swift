import Foundation
import Logging
import Postgres

@testable import FundRecon

/// The process's shared embedded cluster, as the tests of this target use it.
enum SharedCluster {
    static func target() throws -> ConnectionTarget { try EmbeddedCluster.shared() }

    static func connect() throws -> Connection { try Connection(target()) }

    /// The names of existing schemas among `names`.
    static func existing(_ names: [String]) throws -> Set<String> {
        let connection = try connect()
        var found: Set<String> = []
        for name in names where try connection.query("SELECT count(*) FROM pg_namespace WHERE nspname = \(name)")
            .scalar(Int.self) == 1
        {
            found.insert(name)
        }
        return found
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

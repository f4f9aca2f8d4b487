import Foundation
import Logging
import Postgres

@testable import FundRecon

/// One embedded cluster shared by the tests of this target (the watchdog removes it at exit).
enum SharedCluster {
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

    static func target() throws -> ConnectionTarget { try startOnce.get() }

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

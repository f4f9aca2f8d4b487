import Foundation
import Postgres
import Testing

@testable import FundRecon

@Suite("The embedded throwaway cluster")
struct EmbeddedClusterTests {
    @Test func startsAcceptsConnectionsAndLeavesNothingBehind() throws {
        let cluster = try EmbeddedCluster.start(logger: quietLogger)
        let directory = cluster.directory
        #expect(FileManager.default.fileExists(atPath: directory + "/data/PG_VERSION"))
        let connection = try Connection(cluster.target)
        #expect(try connection.query("SELECT current_setting('fsync')").scalar(String.self) == "off")
        #expect(try connection.query("SELECT current_setting('listen_addresses')").scalar(String.self) == "")
        cluster.stop()
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test func missingServerProgramsNameThePackageToInstall() throws {
        let error = try #require(throws: RuntimeFailure.self) {
            _ = try EmbeddedCluster.start(environment: ["RECON_PG_BINDIR": "/nonexistent/bin"], logger: quietLogger)
        }
        #expect(error.cause.contains("/nonexistent/bin"))
        #expect(error.fix?.contains("apt-get install postgresql") == true)
    }

    @Test func unwritableTempDirectoryIsOneClearError() throws {
        let error = try #require(throws: RuntimeFailure.self) {
            _ = try EmbeddedCluster.start(environment: ["TMPDIR": "/nonexistent/tmp"], logger: quietLogger)
        }
        #expect(error.cause.contains("cannot create a temporary directory in /nonexistent/tmp"))
        #expect(error.fix?.contains("TMPDIR") == true)
    }

    @Test func databaseChoiceFollowsFlagThenEnvironment() {
        #expect(DatabaseChoice.resolve(db: nil, environment: [:]) == .embedded)
        #expect(DatabaseChoice.resolve(db: "postgres://a/b", environment: ["RECON_DATABASE_URL": "postgres://c/d"])
            == .server(.url("postgres://a/b")))
        #expect(DatabaseChoice.resolve(db: nil, environment: ["RECON_DATABASE_URL": "postgres://c/d"])
            == .server(.url("postgres://c/d")))
        #expect(DatabaseChoice.resolve(db: nil, environment: ["PGHOST": "/tmp"]) == .server(.environment))
        #expect(DatabaseChoice.resolve(db: nil, environment: ["PGDATABASE": "wh"]) == .server(.environment))
    }

    @Test func wrongPasswordIsExplainedWithoutPrintingIt() throws {
        let cluster = try EmbeddedCluster.start(
            options: .init(superuserPassword: "right-one"), logger: quietLogger)
        defer { cluster.stop() }
        _ = try Connection(cluster.target(database: "postgres", password: "right-one"))
        let error = try #require(throws: RuntimeFailure.self) {
            _ = try RunSession(
                on: cluster.target(database: "postgres", password: "Wr0ngPassw0rd"), logger: quietLogger)
        }
        #expect(error.cause.contains("password authentication failed"))
        #expect(error.fix?.contains("password") == true)
        #expect(!error.description.contains("Wr0ngPassw0rd"))
    }
}

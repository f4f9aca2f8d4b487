import Foundation
import Postgres
import Testing

@testable import FundRecon

/// Superset on a warehouse `recon run` built: the repository's assets imported, the web server
/// started, every chart's data read through the REST API and compared with SQL per currency.
@Suite("Superset on the warehouse")
struct SupersetTests {
    static let root = AuditCommandTests.root
    /// The virtual environment `make superset` makes.
    static let python = root + "/.venv-superset/bin/python"
    static var installed: Bool {
        FileManager.default.isExecutableFile(atPath: python)
            && ((try? ProcessRunner.run(python, ["-c", "import superset, psycopg2, websocket"]).status) == 0)
    }

    /// The shared test server as a URL SQLAlchemy and psycopg2 read (its Unix socket as host).
    static func warehouseURL() throws -> String {
        var fields: [String: String] = [:]
        for pair in try ServerUnderTest.target().conninfo.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        let host = try #require(fields["host"]), port = fields["port"] ?? "5432"
        return "postgresql://\(fields["user"] ?? "postgres")@/\(fields["dbname"] ?? "postgres")?host=\(host)&port=\(port)"
    }

    func script(_ arguments: [String], home: String, environment: [String: String]) throws -> (status: Int32, output: String) {
        let outcome = try ProcessRunner.run(Self.python, [Self.root + "/scripts/superset_fundrecon.py"] + arguments + [],
                                            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        return (outcome.status, outcome.output)
    }

    @Test(.enabled(if: SupersetTests.installed, "apache-superset is not installed in .venv-superset (make superset)"))
    func everyChartOfTheDashboardEqualsSQLPerCurrency() throws {
        // A month of a persistent warehouse, built by recon run.
        let data = NSTemporaryDirectory() + "recon-landing-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let generated = try ReconProcess.run(["generate", "--out", data, "--seed", "81", "--start", "2026-10-01", "--days", "5",
                                              "--orders-per-day", "70", "--business-timezone", "Europe/Berlin", "--quiet",
                                              "--anomalies", "duplicate_capture=1,missing_settlement=1,fee_mismatch=1"])
        #expect(generated.status == 0, "\(generated.output)")
        let prefix = PersistentRunTests.prefix()
        defer { PersistentRunTests.drop(prefix) }
        let built = try PersistentRunTests.run(prefix, "month", "2026-10", data: data)
        #expect(built.status == 0 || built.status == 1, "\(built.output)")

        let home = NSTemporaryDirectory() + "recon-superset-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: home) }
        let environment = ["RECON_WAREHOUSE_URL": try Self.warehouseURL(), "RECON_SCHEMA_PREFIX": prefix]
        let setUp = try script(["setup", home], home: home, environment: environment)
        #expect(setUp.status == 0, "\(setUp.output)")
        let password = try String(contentsOfFile: home + "/admin-password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!setUp.output.contains(password), "the admin's password was printed")
        #expect((try FileManager.default.attributesOfItem(atPath: home + "/admin-password")[.posixPermissions] as? Int) == 0o600)
        let imported = try script(["import", home], home: home, environment: environment)
        #expect(imported.status == 0 && imported.output.contains("imported 5 charts"), "\(imported.output)")
        // No URL or password in the assets: the database comes from the environment.
        let database = try String(contentsOfFile: Self.root + "/bi/superset/assets/databases/fundrecon_warehouse.yaml", encoding: .utf8)
        #expect(database.contains("sqlalchemy_uri: postgresql+psycopg2://from-the-environment"))

        let port = Int.random(in: 30_000...39_999)
        let log = home + "/server.log"
        let server = try ProcessRunner.spawn([Self.python, Self.root + "/scripts/superset_fundrecon.py", "serve", home, String(port)],
                                             outputPath: log, newSession: true,
                                             environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        defer {
            kill(-server, SIGTERM)
            var status: Int32 = 0
            waitpid(server, &status, 0)
        }
        let checked = try script(["check", home, String(port)], home: home, environment: environment)
        #expect(checked.status == 0, "\(checked.output)\n\((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "")")
        for line in ["ok  Daily gateway alignment: expected per currency equal SQL", "ok  Breaks by type and aging: breaks per currency and type",
                     "ok  Merchant closing balances per currency: closing balance per day and currency", "ok  Reconciliation per day",
                     "ok  Hourly volume: orders per currency", "superset check: 5 charts, all equal SQL"] {
            #expect(checked.output.contains(line), "\(line)\n\(checked.output)")
        }

        // Not a rubber stamp: a chart that adds currencies together is named.
        let assets = home + "/assets"
        try FileManager.default.copyItem(atPath: Self.root + "/bi/superset/assets", toPath: assets)
        let chart = assets + "/charts/gateway_alignment_daily.yaml"
        try String(contentsOfFile: chart, encoding: .utf8).replacingOccurrences(of: "groupby: [event_date, gateway, currency]", with: "groupby: [event_date, gateway]")
            .write(toFile: chart, atomically: true, encoding: .utf8)
        let mixed = ["RECON_SUPERSET_ASSETS": assets].merging(environment) { $1 }
        #expect(try script(["import", home], home: home, environment: mixed).status == 0)
        let broken = try script(["check", home, String(port)], home: home, environment: mixed)
        #expect(broken.status == 1, "\(broken.output)")
        #expect(broken.output.contains("FAIL Daily gateway alignment"), "\(broken.output)")
    }
}

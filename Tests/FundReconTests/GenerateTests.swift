import Foundation
import Postgres
import Testing

@testable import FundRecon

/// Generates into a fresh temporary directory.
func generated(_ spec: GeneratorSpec) throws -> (directory: String, report: GenerationReport) {
    let directory = NSTemporaryDirectory() + "recon-gen-\(UUID().uuidString)"
    return (directory, try DatasetGenerator.generate(spec, to: directory, logger: quietLogger))
}

/// Loads a dataset into a fresh run on the shared cluster and hands over a connection whose
/// search_path starts with the run's ods schema.
func withLoadedRun<T>(_ directory: String, _ body: (Connection, LoadReport) throws -> T) throws -> T {
    let run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
    defer { try? run.close() }
    let report = try Ingest.load(dataset: directory, schemas: run.schemas, connection: run.connection, logger: quietLogger)
    try run.connection.execute("SELECT set_config('search_path', \(run.schemas.name(.ods)), false)")
    return try body(run.connection, report)
}

func keys(_ connection: Connection, _ query: String) throws -> Set<String> {
    Set(try connection.query(SQL(unsafeSQL: query)).rows.map { try $0.decode(String.self, at: 0) })
}

let october = CalendarDate(year: 2026, month: 10, day: 1)!

@Suite("recon generate: deterministic, realistic, with exact anomalies")
struct GenerateTests {
    func files(in directory: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: directory + "/" + relative, isDirectory: &isDirectory)
            if !isDirectory.boolValue { result[relative] = FileManager.default.contents(atPath: directory + "/" + relative) }
        }
        return result
    }

    @Test func sameSeedSameBytesOtherSeedOtherData() throws {
        let spec = GeneratorSpec(seed: 7, start: october, days: 9, ordersPerDay: 60, anomalies: try AnomalySpec(parsing: "all=1"),
                                 businessTimeZone: "America/New_York")
        let first = try generated(spec)
        let second = try generated(spec)
        var other = spec
        other.seed = 8
        let third = try generated(other)
        defer { for dir in [first.directory, second.directory, third.directory] { try? FileManager.default.removeItem(atPath: dir) } }
        let a = try files(in: first.directory)
        #expect(a.count > 40)
        #expect(a == (try files(in: second.directory)))
        #expect(a["oltp/orders.csv"] != (try files(in: third.directory))["oltp/orders.csv"])
    }

    @Test func anomalySpecsParse() throws {
        #expect(try AnomalySpec(parsing: "none") == .none)
        #expect(try AnomalySpec(parsing: "duplicate_capture=3,missing_settlement=2").counts
            == [.duplicateCapture: 3, .missingSettlement: 2])
        #expect(try AnomalySpec(parsing: "all=2").counts.count == AnomalyClass.allCases.count)
        #expect(try AnomalySpec(parsing: "0.001").resolved(orders: 38_000).values.reduce(0, +) == 38)
        #expect(throws: AnomalySpecError.self) { try AnomalySpec(parsing: "no_such_class=1") }
        #expect(throws: AnomalySpecError.self) { try AnomalySpec(parsing: "duplicate_capture=x") }
    }

    @Test func shapeIsRealistic() throws {
        let (directory, report) = try generated(GeneratorSpec(seed: 3, start: october, days: 14, ordersPerDay: 300,
                                                              businessTimeZone: "Europe/Berlin"))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(report.anomalies.isEmpty)
        try withLoadedRun(directory) { connection, _ throws in
            // Evening peak: 19:00-21:59 local busier than 02:00-04:59.
            let evening: Int = try connection.query("""
                SELECT count(*) FROM ods_orders
                WHERE extract(hour FROM created_at AT TIME ZONE 'Europe/Berlin') BETWEEN 19 AND 21
                """).scalar()
            let night: Int = try connection.query("""
                SELECT count(*) FROM ods_orders
                WHERE extract(hour FROM created_at AT TIME ZONE 'Europe/Berlin') BETWEEN 2 AND 4
                """).scalar()
            #expect(evening > night * 5)
            // Both currencies, both voucher funders, partial and full refunds, a long tail of merchants.
            #expect(try connection.query("SELECT count(DISTINCT currency) FROM ods_orders").scalar(Int.self) == 2)
            #expect(try connection.query("""
                SELECT count(DISTINCT v.funded_by) FROM ods_orders o JOIN ods_vouchers v USING (voucher_code)
                """).scalar(Int.self) == 2)
            #expect(try connection.query("""
                SELECT count(DISTINCT r.amount = p.amount) FROM ods_refunds r JOIN ods_payments p USING (payment_id)
                """).scalar(Int.self) == 2)
            let top: Int = try connection.query("SELECT count(*) FROM ods_orders WHERE merchant_id = 1").scalar()
            let tenth: Int = try connection.query("SELECT count(*) FROM ods_orders WHERE merchant_id = 10").scalar()
            #expect(top > tenth * 4)
            #expect(try connection.query("SELECT count(DISTINCT channel) FROM ods_orders").scalar(Int.self) == 3)
            #expect(try connection.query("SELECT count(*) FROM ods_merchant_payouts").scalar(Int.self) > 0)
        }
    }

    @Test func cleanDatasetSatisfiesEveryRule() throws {
        let (directory, _) = try generated(GeneratorSpec(seed: 11, start: october, days: 21, ordersPerDay: 120,
                                                         businessTimeZone: "Asia/Tokyo"))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try withLoadedRun(directory) { connection, report throws in
            #expect(report.isConserved)
            for anomaly in AnomalyClassKey.allCases {
                let found = try keys(connection, RuleQueries.queries[anomaly]!)
                #expect(found.isEmpty, "\(anomaly.rawValue): \(found.prefix(5))")
            }
            // R8's source side: payouts are never negative; R9 and R8's roll-forward are warehouse identities.
            #expect(try connection.query("SELECT count(*) FROM ods_merchant_payouts WHERE amount <= 0").scalar(Int.self) == 0)
            // R1: every paid order's captures equal what the customer paid.
            #expect(try connection.query("""
                SELECT count(*) FROM ods_orders o
                LEFT JOIN (SELECT order_id, sum(amount) AS captured FROM ods_payments WHERE status = 'captured' GROUP BY 1) p
                  USING (order_id)
                WHERE o.status = 'paid' AND coalesce(p.captured, 0) <> o.gross_amount - o.voucher_discount
                """).scalar(Int.self) == 0)
            #expect(try connection.query("SELECT count(*) FROM ods_rejects").scalar(Int.self) == 0)
        }
    }

    @Test(arguments: AnomalyClassKey.allCases)
    func eachAnomalyIsFoundByItsRuleWithExactlyTheManifestKeys(_ anomaly: AnomalyClassKey) throws {
        let spec = GeneratorSpec(seed: 5, start: october, days: 12, ordersPerDay: 40,
                                 anomalies: try AnomalySpec(parsing: "\(anomaly.rawValue)=1"), businessTimeZone: "Europe/Berlin")
        let (directory, report) = try generated(spec)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(report.unplaced.isEmpty)
        #expect(report.anomalies.count == 1)
        let manifest = try JSONDecoder().decode(
            ManifestFile.self, from: try Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json")))
        #expect(manifest.anomalies == report.anomalies)
        let instance = try #require(manifest.anomalies.first)
        #expect(instance.anomalyClass == anomaly.rawValue)
        #expect(instance.rule == AnomalyClass(rawValue: anomaly.rawValue)?.rule)
        let expected = try #require(anomaly.expectedKey(instance.keys))
        try withLoadedRun(directory) { connection, loadReport throws in
            #expect(loadReport.isConserved)
            let found = try keys(connection, RuleQueries.queries[anomaly]!)
            #expect(found == [expected], "\(anomaly.rawValue): manifest \(instance.keys), found \(found)")
        }
    }
}

struct ManifestFile: Decodable {
    var anomalies: [InjectedAnomaly]
}

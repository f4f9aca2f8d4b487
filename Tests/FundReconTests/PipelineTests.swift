import Foundation
import Postgres
import Testing

@testable import FundRecon

let pipelineDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("pipeline").path

/// Loads a dataset, builds the real pipeline, and hands over a connection whose search_path holds
/// every layer of the run.
func withBuiltWarehouse<T>(
    _ directory: String, vars: [String: String] = [:], _ body: (Connection) throws -> T
) throws -> T {
    let run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
    defer { try? run.close() }
    _ = try Ingest.load(dataset: directory, schemas: run.schemas, connection: run.connection, logger: quietLogger)
    let project = try PipelineProject.load(directory: pipelineDirectory)
    _ = try PipelineRunner(project: project, schemas: run.schemas, overrides: vars).build(on: run.connection, logger: quietLogger)
    let path = [Layer.ads, .dws, .dwd, .ods].map { run.schemas.name($0) }.joined(separator: ",")
    try run.connection.execute("SELECT set_config('search_path', \(path), false)")
    return try body(run.connection)
}

func rows(_ connection: Connection, _ query: String) throws -> [String] {
    try connection.query(SQL(unsafeSQL: query)).rows.map { row in
        row.texts.map { $0 ?? "NULL" }.joined(separator: "|")
    }
}

/// Expects a query's rows (as `a|b|c` text), showing the actual rows when they differ.
func expectRows(
    _ connection: Connection, _ query: String, _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let actual = try rows(connection, query)
    #expect(actual == expected, "actual rows: \(actual)", sourceLocation: sourceLocation)
}

/// A few orders in America/New_York whose every figure is worked out by hand in the tests below.
func edgeDataset() throws -> FixtureDataset {
    let fixture = FixtureDataset()
    try fixture.write("oltp/merchants.csv", """
        merchant_id,merchant_name,category,commission_rate,currency,onboarded_at
        1,Alpha,books,0.1000,USD,2026-01-01T00:00:00Z
        2,Beta,toys,0.0500,EUR,2026-01-01T00:00:00Z
        3,Gamma,home,0.1000,USD,2026-01-01T00:00:00Z

        """)
    try fixture.write("oltp/orders.csv", ordersHeader + """
        101,1,9,web,,USD,100.00,,0.00,paid,2026-11-01T03:30:00Z
        102,1,9,web,,USD,50.00,,0.00,paid,2026-11-01T05:30:00Z
        103,1,9,web,,USD,20.00,,0.00,paid,2026-11-01T06:30:00Z
        104,2,9,app,,EUR,40.00,,0.00,paid,2026-10-20T12:00:00Z
        105,1,9,web,,USD,30.00,,0.00,cancelled,2026-10-31T15:00:00Z
        106,1,9,web,,EUR,10.00,,0.00,paid,2026-11-02T15:00:00Z

        """)
    try fixture.write("oltp/payments.csv", """
        payment_id,order_id,gateway,gateway_txn_ref,currency,amount,status,captured_at
        201,101,stripe,ch_a,USD,100.00,captured,2026-11-01T03:31:00Z
        202,102,stripe,ch_b,USD,50.00,captured,2026-11-01T05:31:00Z
        203,103,stripe,ch_c,USD,20.00,captured,2026-11-01T06:31:00Z
        204,104,stripe,ch_d,EUR,40.00,captured,2026-10-20T12:01:00Z
        205,106,stripe,ch_e,EUR,10.00,captured,2026-11-02T15:01:00Z

        """)
    try fixture.write("oltp/refunds.csv", """
        refund_id,order_id,payment_id,gateway_refund_ref,currency,amount,reason,refunded_at
        301,104,204,re_d,EUR,15.00,customer_request,2026-11-03T14:00:00Z

        """)
    try fixture.write("oltp/commissions.csv", """
        commission_id,order_id,merchant_id,refund_id,base_amount,rate,amount,currency,charged_at
        1,101,1,,100.00,0.1000,10.00,USD,2026-11-01T03:31:00Z
        2,102,1,,50.00,0.1000,5.00,USD,2026-11-01T05:31:00Z
        3,103,1,,20.00,0.1000,2.00,USD,2026-11-01T06:31:00Z
        4,104,2,,40.00,0.0500,2.00,EUR,2026-10-20T12:01:00Z
        5,106,1,,10.00,0.1000,1.00,EUR,2026-11-02T15:01:00Z
        6,104,2,301,15.00,0.0500,-0.75,EUR,2026-11-03T14:00:00Z

        """)
    try fixture.write("oltp/merchant_payouts.csv", """
        payout_id,merchant_id,currency,amount,paid_at
        1,1,USD,50.00,2026-11-02T14:00:00Z

        """)
    let header = "balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,"
        + "source_id,charge_id,automatic_payout_id,automatic_payout_effective_at_utc\n"
    try fixture.write("gateway/stripe/payout_reconciliation_2026-11-02.csv", header + """
        t1,2026-11-01 03:31:00,2026-11-02 00:00:00,usd,100.00,3.20,96.80,charge,ch_a,ch_a,po_1102_usd,2026-11-02 12:00:00
        t2,2026-11-01 06:31:00,2026-11-02 00:00:00,usd,19.00,0.85,18.15,charge,ch_c,ch_c,po_1102_usd,2026-11-02 12:00:00
        t3,2026-11-01 07:00:00,2026-11-02 00:00:00,usd,5.00,0.45,4.55,charge,ch_zzz,ch_zzz,po_1102_usd,2026-11-02 12:00:00

        """)
    try fixture.write("gateway/stripe/payout_reconciliation_2026-10-27.csv", header + """
        t4,2026-10-20 12:01:00,2026-10-27 00:00:00,eur,40.00,1.46,38.54,charge,ch_d,ch_d,po_1027_eur,2026-10-27 12:00:00

        """)
    try fixture.write("gateway/stripe/payout_reconciliation_2026-11-03.csv", header + """
        t5,2026-11-02 15:01:00,2026-11-03 00:00:00,usd,10.00,0.59,9.41,charge,ch_e,ch_e,po_1103_usd,2026-11-03 12:00:00

        """)
    try fixture.write("gateway/stripe/payout_reconciliation_2026-11-04.csv", header + """
        t6,2026-11-03 14:00:00,2026-11-04 00:00:00,eur,-15.00,0.00,-15.00,refund,re_d,ch_d,po_1104_eur,2026-11-04 12:00:00

        """)
    return fixture
}

@Suite("The warehouse: models, grains, time zones and breaks")
struct PipelineTests {
    let newYork = ["business_timezone": "America/New_York"]

    @Test func merchantMeasuresAtEveryGrainAcrossMonthEndAndDST() throws {
        let fixture = try edgeDataset()
        defer { fixture.remove() }
        try withBuiltWarehouse(fixture.directory, vars: newYork) { connection throws in
            // 23:30 on Oct 31 in New York is Nov 1 in UTC: the order belongs to October.
            try expectRows(connection, """
                SELECT biz_date, order_count, gross_sales, captured_amount, commission_amount, refund_amount, net_payable
                FROM dws_merchant_daily WHERE merchant_id = 1 AND currency = 'USD' ORDER BY biz_date
                """, ["2026-10-31|1|100.00|100.00|10.00|0.00|90.00", "2026-11-01|2|70.00|70.00|7.00|0.00|63.00"])
            // The repeated 01:00 hour of the DST change stays two hours, both on Nov 1.
            try expectRows(connection, """
                SELECT hour_start AT TIME ZONE 'UTC', biz_date, gross_sales, net_payable FROM dws_merchant_hourly
                WHERE merchant_id = 1 AND currency = 'USD' AND biz_date = '2026-11-01' ORDER BY hour_start
                """, ["2026-11-01 05:00:00|2026-11-01|50.00|45.00", "2026-11-01 06:00:00|2026-11-01|20.00|18.00"])
            try expectRows(connection, """
                SELECT month_start, gross_sales, net_payable FROM dws_merchant_monthly
                WHERE merchant_id = 1 AND currency = 'USD' ORDER BY month_start
                """, ["2026-10-01|100.00|90.00", "2026-11-01|70.00|63.00"])
            // A refund a month after its order lands in the later month; currencies never mix.
            try expectRows(connection, """
                SELECT month_start, gross_sales, refund_amount, commission_amount, net_payable FROM dws_merchant_monthly
                WHERE merchant_id = 2 ORDER BY month_start
                """, ["2026-10-01|40.00|0.00|2.00|38.00", "2026-11-01|0.00|15.00|-0.75|-14.25"])
            try expectRows(connection, """
                SELECT currency, sum(gross_sales) FROM dws_merchant_daily WHERE merchant_id = 1 GROUP BY 1 ORDER BY 1
                """, ["EUR|10.00", "USD|170.00"])
            try expectRows(connection, "SELECT count(*) FROM dws_merchant_daily WHERE order_count > 0 AND gross_sales = 30.00", ["0"])
        }
    }

    @Test func balanceRollsForwardEveryDayForEveryMerchant() throws {
        let fixture = try edgeDataset()
        defer { fixture.remove() }
        try withBuiltWarehouse(fixture.directory, vars: newYork) { connection throws in
            // Oct 20 .. Nov 3 is 15 days; accounts: 1/USD, 1/EUR, 2/EUR and the idle 3/USD.
            try expectRows(connection, "SELECT count(*), count(DISTINCT (merchant_id, currency)) FROM ads_merchant_balance_daily", ["60|4"])
            try expectRows(connection, """
                SELECT biz_date, opening_balance, net_payable, payouts, closing_balance FROM ads_merchant_balance_daily
                WHERE merchant_id = 1 AND currency = 'USD' AND biz_date >= '2026-10-30' ORDER BY biz_date
                """, ["2026-10-30|0.00|0.00|0.00|0.00", "2026-10-31|0.00|90.00|0.00|90.00",
                         "2026-11-01|90.00|63.00|0.00|153.00", "2026-11-02|153.00|0.00|50.00|103.00",
                         "2026-11-03|103.00|0.00|0.00|103.00"])
            try expectRows(connection, """
                SELECT count(*), sum(closing_balance) FROM ads_merchant_balance_daily WHERE merchant_id = 3
                """, ["15|0.00"])
            try expectRows(connection, """
                SELECT month_start, opening_balance, refund_amount, commission_amount, net_payable, payouts, closing_balance
                FROM ads_monthly_statement WHERE merchant_id = 2 ORDER BY month_start
                """, ["2026-10-01|0.00|0.00|2.00|38.00|0.00|38.00", "2026-11-01|38.00|15.00|-0.75|-14.25|0.00|23.75"])
        }
    }

    @Test func everyMatchStatusOfTheGatewayRecon() throws {
        let fixture = try edgeDataset()
        defer { fixture.remove() }
        try withBuiltWarehouse(fixture.directory, vars: newYork) { connection throws in
            try expectRows(connection, """
                SELECT entity_type, entity_key, match_status, expected_amount, actual_amount, diff_amount
                FROM ads_gateway_recon ORDER BY entity_type, entity_key
                """, [
                    "payment|201|matched|100.00|100.00|0.00",
                    "payment|202|missing_settlement|50.00|0.00|-50.00",
                    "payment|203|amount_mismatch|20.00|19.00|-1.00",
                    "payment|204|late_settlement|40.00|40.00|0.00",
                    "payment|205|currency_mismatch|10.00|10.00|0.00",
                    "refund|301|matched|-15.00|-15.00|0.00",
                    "settlement_line|ch_zzz|orphan_settlement|0.00|5.00|5.00",
                ])
            // A settlement after the month closed: captured on Oct 31, settled on Nov 2.
            try expectRows(connection, """
                SELECT biz_date, captured_amount, settled_gross, settled_fees, settled_net FROM dws_gateway_daily
                WHERE gateway = 'stripe' AND currency = 'USD' AND biz_date IN ('2026-10-31', '2026-11-02') ORDER BY 1
                """, ["2026-10-31|100.00|0.00|0.00|0.00", "2026-11-02|0.00|124.00|4.50|119.50"])
            try expectRows(connection, """
                SELECT break_type, entity_key FROM ads_recon_breaks
                WHERE entity_type IN ('payment', 'refund', 'settlement_line') ORDER BY 1, 2
                """, ["currency_mismatch|205", "late_settlement|204", "missing_settlement|202",
                         "orphan_settlement|ch_zzz", "settlement_amount_mismatch|203"])
        }
    }

    @Test func adyenLocalTimeInTheRepeatedDSTHourIsNotATimezoneShift() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", ordersHeader + """
            1,1,9,web,,EUR,10.00,,0.00,paid,2026-10-25T00:29:00Z
            2,1,9,web,,EUR,20.00,,0.00,paid,2026-10-25T01:29:00Z
            3,1,9,web,,EUR,30.00,,0.00,paid,2026-10-24T10:00:00Z

            """)
        // 02:30 in Amsterdam happens twice on 2026-10-25: 00:30Z (summer time) and 01:30Z (winter time).
        try fixture.write("oltp/payments.csv", """
            payment_id,order_id,gateway,gateway_txn_ref,currency,amount,status,captured_at
            11,1,adyen,psp1,EUR,10.00,captured,2026-10-25T00:30:00Z
            12,2,adyen,psp2,EUR,20.00,captured,2026-10-25T01:30:00Z
            13,3,adyen,psp3,EUR,30.00,captured,2026-10-24T18:00:00Z

            """)
        let header = "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,"
            + "Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,Net Currency,"
            + "Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Batch Number\n"
        try fixture.write("gateway/adyen/settlement_detail_report_batch_1.csv", header + """
            P,FundReconEUR,psp1,11,visa,2026-10-25 02:30:00,Europe/Amsterdam,Settled,,EUR,,10.00,1,EUR,,9.71,0.10,0.06,0.02,0.11,1
            P,FundReconEUR,psp2,12,visa,2026-10-25 02:30:00,Europe/Amsterdam,Settled,,EUR,,20.00,1,EUR,,19.54,0.10,0.12,0.02,0.22,1
            P,FundReconEUR,psp3,13,visa,2026-10-24 12:00:00,Europe/Amsterdam,Settled,,EUR,,30.00,1,EUR,,29.37,0.10,0.18,0.02,0.33,1
            P,FundReconEUR,,payout-batch-1,,2026-10-26 06:00:00,Europe/Amsterdam,MerchantPayout,,EUR,,,1,EUR,58.62,,,,,,1

            """)
        try withBuiltWarehouse(fixture.directory, vars: ["business_timezone": "Europe/Amsterdam"]) { connection throws in
            try expectRows(connection, "SELECT entity_key, match_status FROM ads_gateway_recon ORDER BY 1",
                           ["11|matched", "12|matched", "13|matched"])
            // Payment 13 was recorded at 18:00Z, the gateway says 12:00 Amsterdam (10:00Z): a real shift.
            try expectRows(connection, "SELECT break_type, entity_key FROM ads_recon_breaks WHERE break_type = 'timezone_shift'",
                           ["timezone_shift|13"])
            try expectRows(connection, "SELECT count(*) FROM ads_recon_breaks WHERE break_type = 'fee_mismatch'", ["0"])
        }
    }

    /// dws_gateway_daily takes a refund's gateway from its payment. A refund is looked up with its
    /// payment within its order (one shard on Citus), and one that names another order's payment,
    /// or no order, by payment_id alone: each still counts once, under its payment's gateway.
    @Test func aRefundCountsUnderItsPaymentsGatewayWhateverOrderItNames() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", ordersHeader + """
            1,1,9,web,,USD,40.00,,0.00,paid,2026-10-05T10:00:00Z
            2,1,9,web,,USD,60.00,,0.00,paid,2026-10-05T11:00:00Z

            """)
        try fixture.write("oltp/payments.csv", """
            payment_id,order_id,gateway,gateway_txn_ref,currency,amount,status,captured_at
            11,1,stripe,ch_1,USD,40.00,captured,2026-10-05T10:01:00Z
            12,2,adyen,psp2,USD,60.00,captured,2026-10-05T11:01:00Z

            """)
        try fixture.write("oltp/refunds.csv", """
            refund_id,order_id,payment_id,gateway_refund_ref,currency,amount,reason,refunded_at
            21,1,11,re_1,USD,5.00,damaged,2026-10-06T09:00:00Z
            22,1,12,psp22,USD,7.00,damaged,2026-10-06T10:00:00Z
            23,,12,psp23,USD,3.00,damaged,2026-10-06T11:00:00Z

            """)
        try withBuiltWarehouse(fixture.directory) { connection throws in
            try expectRows(connection, """
                SELECT gateway, refund_amount FROM dws_gateway_daily WHERE biz_date = '2026-10-06' AND refund_amount <> 0 ORDER BY 1
                """, ["adyen|10.00", "stripe|5.00"])
            try expectRows(connection, """
                SELECT gateway, refund_amount FROM dws_gateway_monthly WHERE refund_amount <> 0 ORDER BY 1
                """, ["adyen|10.00", "stripe|5.00"])
        }
    }

    @Test func businessTimezoneDecidesTheDay() throws {
        let fixture = try edgeDataset()
        defer { fixture.remove() }
        try withBuiltWarehouse(fixture.directory) { connection throws in
            // In UTC the 23:30 New York order is a November order.
            try expectRows(connection, """
                SELECT biz_date, gross_sales FROM dws_merchant_daily WHERE merchant_id = 1 AND currency = 'USD' ORDER BY 1
                """, ["2026-11-01|170.00"])
        }
    }

    @Test func cleanGeneratedDataHasNoBreaksAndEveryIdentityHolds() throws {
        let (directory, _) = try generated(GeneratorSpec(seed: 21, start: october, days: 20, ordersPerDay: 90,
                                                         businessTimeZone: "America/New_York"))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try withBuiltWarehouse(directory, vars: newYork) { connection throws in
            try expectRows(connection, "SELECT break_type, entity_key, detail FROM ads_recon_breaks", [])
            try expectRows(connection, "SELECT count(*) FROM ads_gateway_recon WHERE match_status <> 'matched'", ["0"])
            // R8: closing = opening + net - payouts, and each day opens where the last closed, no day missing.
            try expectRows(connection, """
                SELECT count(*) FROM (
                  SELECT closing_balance <> opening_balance + net_payable - payouts
                         OR opening_balance <> coalesce(lag(closing_balance) OVER w, 0)
                         OR biz_date - lag(biz_date) OVER w <> 1 AS broken
                  FROM ads_merchant_balance_daily WINDOW w AS (PARTITION BY merchant_id, currency ORDER BY biz_date)) x
                WHERE broken
                """, ["0"])
            // R9: hourly sums to daily sums to monthly, for every measure.
            for (fine, coarse, bucket) in [("dws_merchant_hourly", "dws_merchant_daily", "biz_date"),
                                           ("dws_merchant_daily", "dws_merchant_monthly", "date_trunc('month', biz_date)::date")] {
                let coarseKey = coarse.hasSuffix("monthly") ? "month_start" : "biz_date"
                try expectRows(connection, """
                    SELECT count(*) FROM (
                      SELECT merchant_id, currency, \(bucket) AS period, sum(gross_sales) g, sum(net_payable) n,
                             sum(refund_amount) r, sum(commission_amount) c, sum(order_count) o
                      FROM \(fine) GROUP BY 1, 2, 3) f
                    FULL JOIN \(coarse) c ON c.merchant_id = f.merchant_id AND c.currency = f.currency AND c.\(coarseKey) = f.period
                    WHERE f.g IS DISTINCT FROM c.gross_sales OR f.n IS DISTINCT FROM c.net_payable
                       OR f.r IS DISTINCT FROM c.refund_amount OR f.c IS DISTINCT FROM c.commission_amount
                       OR f.o IS DISTINCT FROM c.order_count
                    """, ["0"])
            }
            try expectRows(connection, "SELECT count(*) > 0 FROM ads_recon_summary_daily WHERE match_rate = 1", ["t"])
        }
    }

    @Test func everyInjectedAnomalyIsABreakWithItsKeysAndNothingElseIs() throws {
        let (directory, report) = try generated(GeneratorSpec(
            seed: 17, start: october, days: 20, ordersPerDay: 120, anomalies: try AnomalySpec(parsing: "all=2"),
            businessTimeZone: "Europe/Berlin"))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(report.unplaced.isEmpty)
        #expect(report.anomalies.count == 2 * AnomalyClass.allCases.count)
        try withBuiltWarehouse(directory, vars: ["business_timezone": "Europe/Berlin"]) { connection throws in
            let breaks = Set(try rows(connection, "SELECT break_type || '|' || entity_key FROM ads_recon_breaks"))
            let expected = Set(report.anomalies.map { "\($0.anomalyClass)|\(breakKey($0))" })
            #expect(breaks == expected, "missing: \(expected.subtracting(breaks)); extra: \(breaks.subtracting(expected))")
        }
    }
}

/// The entity_key a break carries for an injected anomaly.
func breakKey(_ anomaly: InjectedAnomaly) -> String {
    let keys = anomaly.keys
    switch AnomalyClass(rawValue: anomaly.anomalyClass)! {
    case .duplicateCapture, .voucherMismatch, .refundExceedsCapture: return keys["order_id"]!
    case .commissionMismatch: return keys["commission_id"]!
    case .missingSettlement, .settlementAmountMismatch, .lateSettlement, .currencyMismatch, .timezoneShift:
        return keys["payment_id"]!
    case .orphanSettlement, .feeMismatch: return keys["gateway_txn_ref"]!
    case .payoutMismatch: return keys["gateway"] == "stripe" ? keys["payout_id"]! : keys["batch"]!
    case .missingGatewayFile: return keys["gateway"] == "stripe" ? "stripe:" + keys["date"]! : "adyen:" + keys["batch"]!
    case .resellerControlTotalMismatch, .resellerTruncatedFile: return keys["file_id"]!
    case .resellerUnmatchedSale, .resellerDuplicateLine: return keys["txn_id"]!
    case .malformedRecord: return keys["file"]! + ":" + keys["line"]!
    case .duplicateSourceRow: return "ods_payments:" + keys["payment_id"]!
    }
}

@Suite("What the tool reads from the pipeline project, not from lists of its own")
struct PipelineListsTests {
    /// A copy of the shipped pipeline to change.
    static func copy() throws -> String {
        let directory = NSTemporaryDirectory() + "recon-pipeline-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: pipelineDirectory, toPath: directory)
        return directory
    }

    @Test func sourcesFileListsExactlyTheTablesIngestLoads() throws {
        let project = try PipelineProject.load(directory: pipelineDirectory)
        #expect(Set(project.sources["oltp"] ?? []) == Set(Sources.extracts.map(\.table.table)))
        let loaded = Set(Ingest.tableDDL(schemas: RunSchemas(prefix: "x")).map(\.table.1).filter { $0.hasPrefix("ods_") })
            .union(Sources.extracts.map { "ods_" + $0.table.table })
        #expect(Set(project.sources["ods"] ?? []) == loaded)
        // So checks resolve source tables by the pipeline's own list.
        let resolver = TableResolver(schemas: RunSchemas(prefix: "w"), project: project)
        #expect(resolver.resolve("orders")?.relation == "\"w_oltp\".\"orders\"")
        #expect(resolver.resolve("ods_rejects")?.layer == .layer(.ods))
        #expect(resolver.resolve("gateway_fee_schedule")?.layer == .layer(.ods))
        #expect(resolver.resolve("no_such_table") == nil)
    }

    @Test func everyRoleIsPlayedOnceAndGoldenCoversEveryADSTable() throws {
        let project = try PipelineProject.load(directory: pipelineDirectory)
        for role in ModelRole.allCases {
            #expect(project.model(for: role)?.name == role.contractModel, "\(role)")
        }
        let ads = Set(project.models.filter { $0.layer == .ads && $0.config.isTable }.map(\.name))
        let golden = URL(fileURLWithPath: pipelineDirectory).deletingLastPathComponent().appendingPathComponent("golden").path
        for name in GoldenSpec.names(root: golden) {
            let files = try FileManager.default.contentsOfDirectory(atPath: golden + "/" + name + "/expected")
            #expect(Set(files.map { String($0.dropLast(4)) }).subtracting(["checks"]) == ads, "\(name)")
        }
    }

    @Test func aModelTheReportsNeedIsNamedWhenItsRoleIsMissingOrTaken() throws {
        let directory = try Self.copy()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let breaks = directory + "/models/ads/ads_recon_breaks.sql"
        let original = try String(contentsOfFile: breaks, encoding: .utf8)
        try Data(original.replacingOccurrences(of: ", role='breaks'", with: "").utf8).write(to: URL(fileURLWithPath: breaks))
        let missing = try #require(throws: PipelineError.self) { try ReportTables(project: PipelineProject.load(directory: directory)) }
        #expect(missing.description == directory + "/models: no model declares config(role='breaks'): the HTML and XLSX reports "
            + "read it (ads_recon_breaks in the shipped pipeline)")
        // An audit that writes no HTML or XLSX does not need it.
        var request = RunRequest(expectationsPath: "x.yml", pipelineDirectory: directory, reportsDirectory: "r")
        request.tasks = [.initializeETLEnvironment]
        #expect(try RunPlan(request).reportTables == nil)
        request.tasks = TaskID.seed
        #expect(throws: (any Error).self) { try RunPlan(request) }

        let summary = directory + "/models/ads/ads_recon_summary_daily.sql"
        let text = try String(contentsOfFile: summary, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "{{ config(materialized='table'", with: "{{ config(materialized='table', role='breaks'")
            .utf8).write(to: URL(fileURLWithPath: summary))
        try Data(original.utf8).write(to: URL(fileURLWithPath: breaks))
        let taken = try #require(throws: PipelineError.self) { try PipelineProject.load(directory: directory) }
        #expect(taken.message.contains("role 'breaks' is declared by"))
    }

    @Test func aSourceTheSourcesFileDoesNotListIsRefusedWithItsModel() throws {
        let directory = try Self.copy()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = directory + "/models/dwd/dwd_payments.sql"
        let text = try String(contentsOfFile: model, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "source('ods', 'ods_payments')", with: "source('ods', 'ods_paymnts')").utf8)
            .write(to: URL(fileURLWithPath: model))
        let project = try PipelineProject.load(directory: directory)
        let runner = try PipelineRunner(project: project, schemas: RunSchemas(prefix: "x"))
        let error = try #require(throws: PipelineError.self) {
            try runner.compile(try #require(project.models.first { $0.name == "dwd_payments" }))
        }
        #expect(error.description.hasPrefix(directory + "/models/dwd/dwd_payments.sql: source('ods', 'ods_paymnts')"))
    }
}

@Suite("Pipeline macros: the subset dbt renders the same way, expanded on the calling line")
struct MacroTests {
    static let macros = """
        {# test macros #}
        {% macro pick(relation, key='id') %}
        select {{ key }} -- the key
        from {{ relation }}
        {% endmacro %}

        {% macro both(a) -%}
          {{ pick(ref('dwd_a'), a) }} union all {{ pick(source('ods', 'ods_x')) }}
        {%- endmacro %}

        {% macro dbt_only(x) %}{{ x | trim }}{% endmacro %}
        """

    static func template(_ sql: String) throws -> ModelTemplate {
        let macros = Dictionary(uniqueKeysWithValues: try Macro.parse(file: Self.macros, named: "macros/m.sql").map { ($0.name, $0) })
        return try ModelTemplate(parsing: sql, file: "models/dwd/dwd_b.sql", macros: macros)
    }

    @Test func macrosExpandWithTheirArgumentsAndDefaultsOnOneLine() throws {
        let template = try Self.template("select 1;\n{{ both('code') }}\nselect 2")
        #expect(template.refs == ["dwd_a"])
        #expect(template.pieces.contains(.source("ods", "ods_x")))
        let text = template.pieces.map { piece -> String in
            switch piece {
            case .text(let text): return text
            case .ref(let name): return "<\(name)>"
            case .source(let source, let table): return "<\(source).\(table)>"
            case .variable(let name, _): return "<\(name)>"
            case .this: return "<this>"
            case .incremental: return "<if>"
            }
        }.joined()
        // The expansion keeps the model's line count: an error's line is the calling line.
        #expect(text.components(separatedBy: "\n").count == 3)
        #expect(text.contains("select code  from <dwd_a>  union all  select id  from <ods.ods_x>"))
        #expect(!text.contains("the key"))
    }

    @Test func macrosOutsideTheSubsetAndBadCallsAreNamedErrors() throws {
        func message(_ sql: String) throws -> String {
            try #require(throws: PipelineError.self) { try Self.template(sql) }.message
        }
        #expect(try message("{{ dbt_only('x') }}").hasPrefix("macro dbt_only (macros/m.sql:11) is dbt's alone: it uses '{{ x | trim }}'"))
        #expect(try message("{{ pick() }}") == "macro pick needs its argument 'relation'")
        #expect(try message("{{ pick('a', nope='b') }}") == "macro pick has no parameter 'nope'")
        #expect(try message("{{ nothing() }}").hasPrefix("unknown function nothing()"))
        #expect(try message("{{ pick(unbound) }}") == "unknown name 'unbound'")
        #expect(throws: PipelineError.self) { try Macro.parse(file: "{% macro a() %}select 1", named: "macros/x.sql") }
        #expect(throws: PipelineError.self) { try Macro.parse(file: "select 1", named: "macros/x.sql") }
    }

    @Test func flatteningKeepsStringsAndDropsComments() {
        #expect(Macro.flattened("a -- note\nb '--x' c - d\n") == "a  b '--x' c - d ")
    }

    @Test func aFailingStatementInAMacroPointsAtTheCallingLine() throws {
        let directory = try PipelineListsTests.copy()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let macros = directory + "/macros/fund_recon.sql"
        let text = try String(contentsOfFile: macros, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "sum(order_count) as order_count,", with: "sum(no_such_count) as order_count,")
            .utf8).write(to: URL(fileURLWithPath: macros))
        let run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        defer { try? run.close() }
        let project = try PipelineProject.load(directory: directory)
        let fixture = try edgeDataset()
        defer { fixture.remove() }
        _ = try Ingest.load(dataset: fixture.directory, schemas: run.schemas, connection: run.connection, logger: quietLogger)
        let failure = try #require(throws: ModelFailure.self) {
            _ = try PipelineRunner(project: project, schemas: run.schemas).build(on: run.connection, logger: quietLogger)
        }
        #expect(failure.model == "dws_merchant_daily")
        let model = try String(contentsOfFile: directory + "/models/dws/dws_merchant_daily.sql", encoding: .utf8)
        let callLine = model.components(separatedBy: "\n").firstIndex { $0.contains("merchant_sums()") }.map { $0 + 1 }
        #expect(failure.line == callLine)
    }
}

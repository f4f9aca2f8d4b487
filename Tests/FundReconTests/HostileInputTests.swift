import Foundation
import Postgres
import Testing

@testable import FundRecon

let paymentsHeader = "payment_id,order_id,gateway,gateway_txn_ref,currency,amount,status,captured_at\n"
let stripeHeader = "balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,"
    + "source_id,charge_id,automatic_payout_id,automatic_payout_effective_at_utc\n"
let adyenHeader = "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,"
    + "Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,Net Currency,"
    + "Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Batch Number\n"

/// Files a hostile or careless sender could deliver: each bad record is one reject with its
/// reason, each unusable file a rejected file, and the load always finishes (issue 19).
@Suite("Ingest under hostile input: every bad value a reject, never an abort or a lost row")
struct HostileInputTests {
    func payment(_ id: Int) -> String { "\(id),\(id),stripe,ch_\(id),USD,1.00,captured,2026-10-03T10:15:00Z\n" }

    /// Each reject's reason by `file:line` (all of them, joined, where a line has several).
    func reasons(_ connection: Connection) throws -> [String: String] {
        Dictionary(try connection.query("SELECT file || ':' || line, reason FROM ods_rejects ORDER BY reason").rows.map {
            (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1))
        }, uniquingKeysWith: { $0 + " | " + $1 })
    }

    /// A stray quote on line 50 of 1,581 rows used to swallow the rest of the file while the
    /// conservation check passed (49 read). It costs line 50 alone now.
    @Test func aStrayQuoteCostsOneRecordNotTheRestOfTheFile() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        var text = paymentsHeader
        for id in 1...1_581 { text += id == 49 ? "49,49,stripe,\"ch_49,USD,1.00,captured,2026-10-03T10:15:00Z\n" : payment(id) }
        try fixture.write("oltp/payments.csv", text)
        // A quoted field that runs 150 lines (past the limit), and one that the end of the file cuts.
        var long = paymentsHeader + payment(1) + "2,2,stripe,\"ch_2\n"
        for _ in 0..<150 { long += "more of the same field\n" }
        long += "\",USD,1.00,captured,2026-10-03T10:15:00Z\n" + payment(3)
        try fixture.write("oltp/refunds.csv", "refund_id,order_id,payment_id,gateway_refund_ref,currency,amount,reason,refunded_at\n"
            + "1,1,1,re_1,USD,1.00,x,2026-10-03T10:15:00Z\n2,1,1,\"re_2,USD,1.00,x,2026-10-03T10:15:00Z\n")
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.isConserved)
            let payments = try #require(report.files.first { $0.file == "oltp/payments.csv" })
            #expect(payments.rowsRead == 1_581)
            #expect(payments.rowsLoaded == 1_580)
            #expect(payments.rowsRejected == 1)
            let found = try reasons(connection)
            #expect(found["oltp/payments.csv:50"]?.contains("quoted field opened on line 50 runs past 100 lines") == true, "\(found)")
            let refunds = try #require(report.files.first { $0.file == "oltp/refunds.csv" })
            #expect(refunds.rowsRead == 2 && refunds.rowsLoaded == 1 && refunds.rowsRejected == 1)
        }
        let runaway = FixtureDataset()
        defer { runaway.remove() }
        try runaway.write("oltp/payments.csv", long)
        try withLoadedRun(runaway.directory) { connection, report throws in
            let payments = try #require(report.files.first { $0.file == "oltp/payments.csv" })
            // Line 3 opens the runaway field: one reject; every line after it is read again as its own record.
            let found = try reasons(connection)
            #expect(payments.rowsLoaded == 2, "\(found)")
            #expect(payments.isConserved)
            #expect(found["oltp/payments.csv:3"]?.contains("runs past 100 lines") == true)
            #expect(try connection.query("SELECT max(_source_line) FROM ods_payments").scalar(Int.self) == 155)
        }
    }

    /// A directory where a file should be was a Swift crash (exit 132): now an input error naming it.
    @Test(arguments: ["oltp/refunds.csv", "gateway/stripe/payout_reconciliation_2026-10-04.csv"])
    func aDirectoryWhereAFileShouldBeNamesTheFile(_ relative: String) throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", ordersHeader)
        try FileManager.default.createDirectory(atPath: fixture.directory + "/" + relative, withIntermediateDirectories: true)
        let error = try #require(throws: InputError.self) { try withLoadedRun(fixture.directory) { _, _ in } }
        #expect(error.file.hasSuffix(relative))
        #expect(error.message.contains("is a directory"))
        #expect(error.failureClass == .badInput)
    }

    /// An empty file of any kind is a reject (the completeness checks then fail), never an abort.
    @Test func emptyFilesAreRejectedNotAborted() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", "")
        try fixture.write("oltp/payments.csv", "\n\n")
        try fixture.write("gateway/stripe/payout_reconciliation_2026-10-04.csv", "")
        try fixture.write("resellers/2026-10-03/RS002.csv", "")
        try fixture.write("resellers/2026-10-03/RS001.xml", "")
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.isConserved)
            let status = Dictionary(report.files.map { ($0.file, $0.status) }, uniquingKeysWith: { first, _ in first })
            #expect(status["oltp/orders.csv"] == .empty)
            #expect(status["oltp/payments.csv"] == .empty)
            #expect(status["gateway/stripe/payout_reconciliation_2026-10-04.csv"] == .empty)
            let found = try reasons(connection)
            #expect(found["oltp/orders.csv:1"] == Loader.emptyFileReason)
            #expect(found["resellers/2026-10-03/RS002.csv:1"] == Loader.emptyFileReason)
            #expect(status["resellers/2026-10-03/RS002.csv"] == .truncated)
            #expect(found["resellers/2026-10-03/RS001.xml:1"]?.contains("malformed XML") == true)
        }
    }

    @Test func aHeaderNamingARequiredColumnTwiceIsAnError() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/payments.csv", paymentsHeader.replacingOccurrences(of: "\n", with: ",amount\n") + payment(1))
        let error = try #require(throws: InputError.self) { try withLoadedRun(fixture.directory) { _, _ in } }
        #expect(error.file == "oltp/payments.csv")
        #expect(error.column == "amount")
        #expect(error.message.contains("names this column 2 times (columns 6, 9)"))
    }

    /// Values the field checks used to pass and PostgreSQL refused (the whole load aborted with
    /// exit 3): each is now one reject, and the load finishes.
    @Test func valuesPostgreSQLWouldRefuseAreRejects() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/payments.csv", paymentsHeader + payment(1)
            + "2,2,stripe,ch_2,USD,1.00,captured,2026-10-03T10:15:00+99:99\n"
            + "3,3,stripe,ch_3,USD,1.00,captured,0000-10-03T10:15:00Z\n"
            + "4,4,stripe,ch_4,USD,1.00,captured,2026-10-03T10:15:00+16:00\n"
            + "5,5,stripe,ch_5,USD,99999999999999999.99,captured,2026-10-03T10:15:00Z\n"
            + "6,6,stripe,ch_6,USD,1.00,captured,2026-10-03T10:15:00+15:59\n")
        try fixture.write("gateway/adyen/settlement_detail_report_batch_1.csv", adyenHeader
            + "P,M,psp1,1,visa,2026-10-03 10:00:00,Europe/Amsterdam,Settled,,EUR,,10.00,1,EUR,,9.71,0.10,0.06,0.02,0.11,1\n"
            + "P,M,psp2,2,visa,2026-10-03 10:00:00,Mars/Olympus_Mons,Settled,,EUR,,10.00,1,EUR,,9.71,0.10,0.06,0.02,0.11,1\n"
            + "P,M,psp3,3,visa,2026-10-03 10:00:00,utc,Settled,,EUR,,10.00,1,EUR,,9.71,0.10,0.06,0.02,0.11,1\n")
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.isConserved)
            let found = try reasons(connection)
            #expect(found["oltp/payments.csv:3"]?.hasPrefix("bad timestamp") == true)
            #expect(found["oltp/payments.csv:4"]?.hasPrefix("bad timestamp") == true)
            #expect(found["oltp/payments.csv:5"]?.hasPrefix("bad timestamp") == true)
            #expect(found["oltp/payments.csv:6"]?.hasPrefix("bad amount") == true)
            #expect(found["gateway/adyen/settlement_detail_report_batch_1.csv:3"] == "bad time zone name in column timezone: 'Mars/Olympus_Mons'")
            #expect(try connection.query("SELECT count(*) FROM ods_payments").scalar(Int.self) == 2)
            #expect(try connection.query("SELECT count(*) FROM ods_adyen_settlement_details").scalar(Int.self) == 2)
            // What passes, PostgreSQL takes: the +15:59 offset and the lower-case zone.
            #expect(try connection.query("""
                SELECT count(*) FROM ods_adyen_settlement_details WHERE (creation_date AT TIME ZONE timezone) IS NOT NULL
                """).scalar(Int.self) == 2)
        }
    }

    /// One far-future event time used to drive a calendar across eight thousand years (the build
    /// ran for minutes and filled the disk): it is a reject, as is a daily file dated so.
    @Test func eventTimesOutsideThePlausibleWindowAreRejects() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", ordersHeader + "1,1,10,web,,USD,12.50,,0.00,paid,2026-10-03T10:15:00Z\n"
            + "2,1,10,web,,USD,12.50,,0.00,paid,9999-12-31T23:59:59Z\n" + "3,1,10,web,,USD,12.50,,0.00,paid,1999-01-01T00:00:00Z\n")
        try fixture.write("gateway/stripe/payout_reconciliation_2026-10-04.csv", stripeHeader)
        try fixture.write("gateway/stripe/payout_reconciliation_9999-12-30.csv", stripeHeader)
        try fixture.write("gateway/adyen/settlement_detail_report_batch_123456789012345678901234567890.csv", adyenHeader)
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.isConserved)
            let found = try reasons(connection)
            #expect(found["oltp/orders.csv:3"]?.contains("outside the plausible event window [2025-10-03, 2027-10-06)") == true,
                    "\(found)")
            #expect(found["oltp/orders.csv:4"]?.contains("outside the plausible event window") == true)
            let rejected = report.files.filter { $0.status == .rejected }.map(\.file).sorted()
            #expect(rejected == ["gateway/adyen/settlement_detail_report_batch_123456789012345678901234567890.csv",
                                 "gateway/stripe/payout_reconciliation_9999-12-30.csv"])
            #expect(try connection.query("SELECT count(*) FROM ods_orders").scalar(Int.self) == 1)
        }
        // The vars widen or narrow the window; a var that is not a date is named.
        let wide = try EventWindow.plausible(for: fixture.directory, vars: ["event_window_start": "1990-01-01"])
        #expect(wide.contains(try #require(TimestampParser.parse("1999-01-01T00:00:00Z"))))
        #expect(throws: BadValue.self) { _ = try EventWindow.plausible(for: fixture.directory, vars: ["event_window_end": "soon"]) }
    }

    /// A DOCTYPE (internal entities were expanded into amounts), a false encoding declaration
    /// (names loaded garbled), one bad byte (the other 17 sales vanished uncounted) and a 10 MB
    /// attribute (the rest of the file lost).
    @Test func hostileXMLIsRefusedOrCountedNeverSilentlyLost() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        func sale(_ n: Int, amount: String = "1.00") -> String {
            "  <sale txnId=\"RS001-\(n)\" orderRef=\"\(n)\" soldAt=\"2026-10-03T10:15:00Z\" amount=\"\(amount)\"/>\n"
        }
        let open = "<resellerReport resellerId=\"RS001\" reportDate=\"2026-10-03\" currency=\"USD\" fileId=\"RS001-20261003\">\n"
        try fixture.write("resellers/2026-10-03/RS001.xml", "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY amt \"999.99\">]>\n"
            + open + sale(1, amount: "&amt;") + "  <trailer recordCount=\"1\" totalAmount=\"999.99\"/>\n</resellerReport>\n")
        try fixture.write("resellers/2026-10-04/RS001.xml", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
            + open.replacingOccurrences(of: "RS001\"", with: "Ré001\"") + sale(1) + "</resellerReport>\n")
        var broken = Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + open).utf8)
        broken += Array("  <sale txnId=\"RS001-".utf8) + [0xFF] + Array("\" orderRef=\"1\" soldAt=\"2026-10-03T10:15:00Z\" amount=\"1.00\"/>\n".utf8)
        for n in 2...18 { broken += Array(sale(n).utf8) }
        broken += Array("  <trailer recordCount=\"18\" totalAmount=\"18.00\"/>\n</resellerReport>\n".utf8)
        try fixture.write("resellers/2026-10-05/RS001.xml", bytes: broken)
        try fixture.write("resellers/2026-10-06/RS001.xml", open + sale(1)
            + "  <sale txnId=\"" + String(repeating: "x", count: 11_000_000) + "\"/>\n" + sale(3) + sale(4) + "</resellerReport>\n")
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.isConserved)
            let status = Dictionary(report.files.map { ($0.file, $0.status) }, uniquingKeysWith: { first, _ in first })
            #expect(status["resellers/2026-10-03/RS001.xml"] == .rejected)
            #expect(status["resellers/2026-10-04/RS001.xml"] == .rejected)
            #expect(status["resellers/2026-10-05/RS001.xml"] == .malformed)
            #expect(status["resellers/2026-10-06/RS001.xml"] == .malformed)
            let found = try reasons(connection)
            #expect(found["resellers/2026-10-03/RS001.xml:1"]?.contains("DOCTYPE") == true)
            #expect(found["resellers/2026-10-04/RS001.xml:1"]?.contains("declares encoding ISO-8859-1 but its bytes are UTF-8") == true, "\(found)")
            // Every sale of the broken file is accounted for: the bad one and the 17 after it are rejects.
            let brokenRejects: Int = try connection.query(
                "SELECT count(*) FROM ods_rejects WHERE file = 'resellers/2026-10-05/RS001.xml' AND raw_record LIKE '%<sale%'").scalar()
            #expect(brokenRejects == 18)
            #expect(try connection.query("SELECT count(*) FROM ods_rejects WHERE file = 'resellers/2026-10-06/RS001.xml' AND line IN (4, 5)")
                .scalar(Int.self) == 2)
            #expect(try connection.query("SELECT count(*) FROM ods_reseller_sales WHERE amount = 999.99").scalar(Int.self) == 0)
        }
    }
}

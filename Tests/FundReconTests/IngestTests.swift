import Foundation
import Postgres
import Testing

@testable import FundRecon

/// A hand-written dataset directory: only the files a test names (missing extracts are allowed).
struct FixtureDataset {
    let directory = NSTemporaryDirectory() + "recon-fixture-\(UUID().uuidString)"

    init() {
        try? FileManager.default.createDirectory(atPath: directory + "/oltp", withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Array(text.utf8))
    }

    func write(_ relative: String, bytes: [UInt8]) throws {
        let path = directory + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

let ordersHeader = "order_id,merchant_id,customer_id,channel,reseller_id,currency,gross_amount,voucher_code,voucher_discount,status,created_at\n"

@Suite("Ingest: nothing lost, every reject explained")
struct IngestTests {
    func rejects(_ connection: Connection) throws -> [(file: String, line: Int, raw: String, reason: String)] {
        try connection.query("SELECT file, line, raw_record, reason FROM ods_rejects ORDER BY file, line").rows.map {
            (try $0.decode(at: 0), try $0.decode(at: 1), try $0.decode(at: 2), try $0.decode(at: 3))
        }
    }

    @Test func eachMalformedRecordKindIsRejectedWithItsLineAndTheRestLoads() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        var bytes = Array((ordersHeader
            + "1,1,10,web,,USD,12.50,,0.00,paid,2026-10-03T10:15:00Z\n"
            + "2,1,10,web,,USD,12,50,,0.00,paid,2026-10-03T10:15:00Z\n"
            + "3,1,10,web,,USD,abc,,0.00,paid,2026-10-03T10:15:00Z\n"
            + "4,1,10,web,,USD,1.00,,0.00,paid,2026-13-03T10:15:00Z\n"
            + "5,1,10,web,,USD,1.00,,0.00,paid,2026-10-03 10:15:00\n"
            + "6,1,10,web,,\"U\nSD\",1.00,,0.00,paid,2026-10-03T10:15:00Z\n").utf8)
        bytes += Array("7,1,10,web,,".utf8) + [0xC3, 0x28] + Array(",1.00,,0.00,paid,2026-10-03T10:15:00Z\n".utf8)
        bytes += Array("x8,1,10,web,,USD,1.00,,0.00,paid,2026-10-03T10:15:00Z\n".utf8)
        bytes += Array("9,1,10,web,,USD,1.005,,0.00,paid,2026-10-03T10:15:00Z\n".utf8)
        try fixture.write("oltp/orders.csv", bytes: bytes)
        try fixture.write("resellers/2026-10-03/RS002.csv", """
            record_type,reseller_id,report_date,txn_id,order_ref,sold_at,currency,amount,record_count,total_amount
            H,RS002,2026-10-03,,,,USD,,,
            D,RS002,2026-10-03,RS002-1,1,2026-10-03T10:15:00Z,USD,12.50,,
            X,RS002,2026-10-03,,,,USD,,,
            T,RS002,2026-10-03,,,,USD,,1,12.50

            """)
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.isConserved)
            let orders = try #require(report.files.first { $0.file == "oltp/orders.csv" })
            #expect(orders.rowsRead == 9)
            #expect(orders.rowsLoaded == 2)
            #expect(orders.rowsRejected == 7)
            let loaded = try connection.query("SELECT order_id FROM ods_orders ORDER BY 1").rows.map { try $0.decode(Int.self, at: 0) }
            #expect(loaded == [1, 6])
            #expect(try connection.query("SELECT currency FROM ods_orders WHERE order_id = 6").scalar(String.self) == "U\nSD")
            let found = try rejects(connection)
            let byLine = Dictionary(found.map { ($0.line, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(byLine[3]?.reason == "wrong column count: expected 11, got 12")
            #expect(byLine[3]?.raw == "2,1,10,web,,USD,12,50,,0.00,paid,2026-10-03T10:15:00Z")
            #expect(byLine[4]?.reason == "bad amount in column gross_amount: 'abc'")
            #expect(byLine[5]?.reason.hasPrefix("bad timestamp (ISO 8601 with offset) in column created_at") == true)
            #expect(byLine[6]?.reason.hasPrefix("bad timestamp") == true)
            // Order 6's quoted field spans lines 7-8, so the next record starts on line 9.
            #expect(byLine[9]?.reason == "bad encoding: not valid UTF-8")
            #expect(byLine[10]?.reason == "bad integer in column order_id: 'x8'")
            #expect(byLine[11]?.reason == "bad amount in column gross_amount: '1.005'")
            let reseller = try #require(found.first { $0.file.hasSuffix("RS002.csv") })
            #expect(reseller.line == 4)
            #expect(reseller.reason == "unknown record type 'X' (expected H, D or T)")
            #expect(try connection.query("SELECT count(*) FROM ods_reseller_sales").scalar(Int.self) == 1)
        }
    }

    @Test func everyRowCarriesItsLineage() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", ordersHeader + "1,1,10,web,,USD,12.50,,0.00,paid,2026-10-03T10:15:00Z\n"
            + "2,1,10,app,,EUR,1.00,,0.00,paid,2026-10-03T11:15:00+02:00\n")
        try withLoadedRun(fixture.directory) { connection, _ throws in
            let row = try #require(try connection.query("""
                SELECT _source_file, _source_line, _loaded_at IS NOT NULL, created_at = '2026-10-03T09:15:00Z'
                FROM ods_orders WHERE order_id = 2
                """).first)
            #expect(try row.decode(String.self, at: 0) == "oltp/orders.csv")
            #expect(try row.decode(Int.self, at: 1) == 3)
            #expect(try row.decode(Bool.self, at: 2))
            #expect(try row.decode(Bool.self, at: 3))
        }
    }

    @Test func textFieldsArriveByteForByteWhateverCOPYMustEscape() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        // A plain line, then lines whose text COPY's format must escape (backslash, tab), one with
        // non-ASCII, one quoted: each field arrives as it stood in the file.
        let channels = ["web", #"we\b"#, "w\teb", "wéb", #"a\\N"#]
        var text = ordersHeader
        for (index, channel) in channels.enumerated() {
            text += "\(index + 1),1,10,\(channel),,USD,1.00,,0.00,paid,2026-10-03T10:15:00Z\n"
        }
        text += "6,1,10,\"x,\\y\",,USD,1.00,,0.00,paid,2026-10-03T10:15:00Z\n"
        try fixture.write("oltp/orders.csv", text)
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.isConserved)
            let loaded = try connection.query("SELECT channel FROM ods_orders ORDER BY order_id").rows.map { try $0.decode(String.self, at: 0) }
            #expect(loaded == channels + [#"x,\y"#])
        }
    }

    @Test func bomAndCRLFAreAccepted() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        let text = ordersHeader.replacingOccurrences(of: "\n", with: "\r\n")
            + "1,1,10,web,,USD,12.50,,0.00,paid,2026-10-03T10:15:00Z\r\n2,1,10,web,,USD,2.50,,0.00,paid,2026-10-03T10:15:00Z\r\n"
        try fixture.write("oltp/orders.csv", bytes: [0xEF, 0xBB, 0xBF] + Array(text.utf8))
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.files.first { $0.file == "oltp/orders.csv" }?.rowsLoaded == 2)
            #expect(try connection.query("SELECT sum(gross_amount) FROM ods_orders").scalar(Cents.self) == Cents(1500))
            #expect(try connection.query("SELECT max(status) FROM ods_orders").scalar(String.self) == "paid")
        }
    }

    @Test func extractMissingARequiredColumnNamesFileAndColumn() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", ordersHeader.replacingOccurrences(of: ",gross_amount", with: "") + "1\n")
        let error = try #require(throws: InputError.self) {
            try withLoadedRun(fixture.directory) { _, _ in }
        }
        #expect(error.file == "oltp/orders.csv")
        #expect(error.column == "gross_amount")
        #expect(error.description == "oltp/orders.csv:1: column gross_amount: required column is missing")
    }

    @Test func fileWithoutTrailerLoadsItsLinesAndIsFlagged() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("resellers/2026-10-03/RS002.csv", """
            record_type,reseller_id,report_date,txn_id,order_ref,sold_at,currency,amount,record_count,total_amount
            H,RS002,2026-10-03,,,,USD,,,
            D,RS002,2026-10-03,RS002-1,1,2026-10-03T10:15:00Z,USD,12.50,,

            """)
        try fixture.write("resellers/2026-10-03/RS001.xml", """
            <?xml version="1.0" encoding="UTF-8"?>
            <resellerReport resellerId="RS001" reportDate="2026-10-03" currency="EUR" fileId="RS001-20261003">
              <sale txnId="RS001-1" orderRef="2" soldAt="2026-10-03T10:15:00Z" amount="3.10"/>
              <sale txnId="RS001-2" orderRef="3" soldAt="2026-10-03T11:15:00Z" amount="4.20"/>

            """)
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.files.filter { $0.status == .truncated }.count == 2)
            #expect(report.isConserved)
            let flagged = try connection.query("SELECT file_id FROM ods_reseller_files WHERE NOT has_trailer ORDER BY 1")
                .rows.map { try $0.decode(String.self, at: 0) }
            #expect(flagged == ["RS001-20261003", "RS002-20261003"])
            #expect(try connection.query("SELECT count(*) FROM ods_reseller_sales").scalar(Int.self) == 3)
        }
    }

    @Test func hostileXMLLoadsNoFileContentAndNeverExhaustsMemory() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("resellers/2026-10-03/RS001.xml", """
            <?xml version="1.0"?>
            <!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
            <resellerReport resellerId="RS001" reportDate="2026-10-03" currency="USD" fileId="RS001-20261003">
              <sale txnId="&e;" orderRef="1" soldAt="2026-10-03T10:15:00Z" amount="1.00"/>
              <trailer recordCount="1" totalAmount="1.00"/>
            </resellerReport>
            """)
        var laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            laughs += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">\n"
        }
        laughs += "]>\n<resellerReport resellerId=\"RS003\" reportDate=\"2026-10-03\" currency=\"USD\" fileId=\"RS003-20261003\">"
            + "<sale txnId=\"&lol9;\" orderRef=\"1\" soldAt=\"2026-10-03T10:15:00Z\" amount=\"1.00\"/></resellerReport>\n"
        try fixture.write("resellers/2026-10-03/RS003.xml", laughs)
        try fixture.write("resellers/2026-10-03/RS005.xml",
                          "<resellerReport resellerId=\"RS005\">" + String(repeating: "<a>", count: 1000)
                          + String(repeating: "</a>", count: 1000) + "</resellerReport>\n")
        try withLoadedRun(fixture.directory) { connection, report throws in
            #expect(report.isConserved)
            let texts = try connection.query("""
                SELECT coalesce(string_agg(txn_id, ''), '') FROM ods_reseller_sales
                """).scalar(String.self)
            #expect(!texts.contains("root:"))
            #expect(texts.count < 1000)
            let reasons = try rejects(connection).map { "\($0.file): \($0.reason)" }
            #expect(reasons.contains { $0.contains("RS001.xml: the file declares a DOCTYPE or entities") })
            #expect(reasons.contains { $0.contains("RS003.xml: the file declares a DOCTYPE or entities") })
            #expect(report.files.filter { $0.status == .rejected }.map(\.file).sorted()
                == ["resellers/2026-10-03/RS001.xml", "resellers/2026-10-03/RS003.xml"])
            #expect(reasons.contains { $0.contains("RS005.xml") })
            #expect(try connection.query("SELECT count(*) FROM ods_rejects WHERE raw_record LIKE '%root:%'").scalar(Int.self) == 0)
        }
    }

    @Test func sameFileTwiceIsLoadedOnce() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        let header = "balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,"
            + "source_id,charge_id,automatic_payout_id,automatic_payout_effective_at_utc\n"
        let line = "txn_1,2026-10-03 10:00:00,2026-10-04 00:00:00,usd,10.00,0.59,9.41,charge,ch_1,ch_1,po_1,2026-10-04 12:00:00\n"
        let bad = "txn_2,yesterday,2026-10-04 00:00:00,usd,1.00,0.33,0.67,charge,ch_2,ch_2,po_1,2026-10-04 12:00:00\n"
        // The second is hashed while it loads: what it loaded and rejected is taken back out.
        try fixture.write("gateway/stripe/payout_reconciliation_2026-10-04.csv", header + line + bad)
        try fixture.write("gateway/stripe/payout_reconciliation_2026-10-05.csv", header + line + bad)
        try fixture.write("gateway/stripe/payout_reconciliation_2026-10-06.csv", header)
        try fixture.write("gateway/stripe/payout_reconciliation_2026-10-07.csv", header)
        try withLoadedRun(fixture.directory) { connection, report throws in
            expectOneDuplicate(in: report, "gateway/stripe/payout_reconciliation_2026-10-05.csv",
                               of: "gateway/stripe/payout_reconciliation_2026-10-04.csv")
            // Header-only files of two quiet days are identical, and both arrived.
            #expect(report.files.filter { $0.file.hasSuffix("10-06.csv") || $0.file.hasSuffix("10-07.csv") }
                .allSatisfy { $0.status == .loaded })
            #expect(try connection.query("SELECT count(*) FROM ods_stripe_balance_transactions").scalar(Int.self) == 1)
            #expect(try connection.query("SELECT fee FROM ods_stripe_balance_transactions").scalar(Cents.self) == Cents(59))
            #expect(try connection.query("SELECT count(*) FROM ods_file_loads WHERE status = 'duplicate'").scalar(Int.self) == 1)
            #expect(try connection.query("SELECT file FROM ods_rejects").rows.map { try $0.decode(String.self, at: 0) }
                    == ["gateway/stripe/payout_reconciliation_2026-10-04.csv"])
        }
    }

    /// The load found one duplicate file, `file`, with the content of `original`.
    func expectOneDuplicate(in report: LoadReport, _ file: String, of original: String) {
        let duplicates = report.files.filter { $0.status == .duplicate }
        #expect(duplicates.map(\.file) == [file])
        #expect(duplicates.first?.duplicateOf == original)
    }

    @Test func sameResellerCSVTwiceIsLoadedOnceAndItsControlRecordsOnce() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        // A reseller CSV is hashed while it is read: nothing of the repeat, sales, rejects or its
        // file row, may be written.
        let report = """
            record_type,reseller_id,report_date,txn_id,order_ref,sold_at,currency,amount,record_count,total_amount
            H,RS002,2026-10-03,,,,USD,,,
            D,RS002,2026-10-03,RS002-1,1,2026-10-03T10:15:00Z,USD,12.50,,
            D,RS002,2026-10-03,RS002-2,2,soon,USD,1.00,,
            T,RS002,2026-10-03,,,,,,2,13.50

            """
        try fixture.write("resellers/2026-10-03/RS002.csv", report)
        try fixture.write("resellers/2026-10-04/RS002.csv", report)
        try withLoadedRun(fixture.directory) { connection, loaded throws in
            expectOneDuplicate(in: loaded, "resellers/2026-10-04/RS002.csv", of: "resellers/2026-10-03/RS002.csv")
            #expect(loaded.isConserved)
            let files = try connection.query("""
                SELECT report_date::text, declared_count, declared_total::text, has_trailer, _source_file FROM ods_reseller_files
                """).rows
            try #require(files.count == 1)
            let file = files[0]
            #expect(try file.decode(String.self, at: 0) == "2026-10-03")
            #expect(try file.decode(Int.self, at: 1) == 2)
            #expect(try file.decode(String.self, at: 2) == "13.50")
            #expect(try file.decode(Bool.self, at: 3))
            #expect(try file.decode(String.self, at: 4) == "resellers/2026-10-03/RS002.csv")
            #expect(try connection.query("SELECT txn_id FROM ods_reseller_sales").rows.map { try $0.decode(String.self, at: 0) }
                    == ["RS002-1"])
            #expect(try connection.query("SELECT line FROM ods_rejects").rows.map { try $0.decode(Int.self, at: 0) } == [4])
        }
    }

    @Test func aFileWhoseNameMatchesNoContractNameIsListedNotSilentlySkipped() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", ordersHeader)
        try fixture.write("oltp/orders_2026-10-02.csv", ordersHeader)
        try fixture.write("gateway/stripe/payouts-2026-10-01.csv", "x\n")
        try fixture.write("gateway/stripe/payout_reconciliation_yesterday.csv", "x\n")
        try fixture.write("gateway/adyen/settlement_detail_report_batch_7.csv.bak", "x\n")
        try fixture.write("gateway/paypal/report.csv", "x\n")
        try fixture.write("resellers/2026-10-02/RS001.json", "{}")
        try fixture.write("resellers/latest/RS001.csv", "x\n")
        try fixture.write("manifest.json", "{}")
        try fixture.write("notes.txt", "x")
        try withLoadedRun(fixture.directory) { _, report throws in
            #expect(report.ignored == [
                "oltp/orders_2026-10-02.csv", "notes.txt", "gateway/adyen/settlement_detail_report_batch_7.csv.bak", "gateway/paypal",
                "gateway/stripe/payout_reconciliation_yesterday.csv", "gateway/stripe/payouts-2026-10-01.csv", "resellers/2026-10-02/RS001.json",
                "resellers/latest",
            ])
        }
    }

    @Test func missingExtractIsRecordedNotReadAsZero() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", ordersHeader)
        try withLoadedRun(fixture.directory) { connection, _ throws in
            let statuses = try connection.query("SELECT file, status FROM ods_file_loads WHERE source = 'oltp' ORDER BY file")
                .rows.map { "\(try $0.decode(String.self, at: 0))=\(try $0.decode(String.self, at: 1))" }
            #expect(statuses.contains("oltp/orders.csv=loaded"))
            #expect(statuses.contains("oltp/payments.csv=missing"))
            #expect(statuses.count == 9)
        }
    }

    @Test func sha256MatchesKnownVectors() throws {
        var empty = SHA256()
        #expect(empty.finalize() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var abc = SHA256()
        abc.update(Array("abc".utf8))
        #expect(abc.finalize() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var long = SHA256()
        for _ in 0..<1000 { long.update(Array("a".utf8)) }
        #expect(long.finalize() == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func feeScheduleMatchesTheSeedFile() throws {
        #expect(FeeSchedule.stripe(1000) == 59)
        #expect(FeeSchedule.stripe(-1000) == 0)
        #expect(FeeSchedule.adyen(15501) == [10, 93, 2, 171])
        #expect(Money.scaled(-125, by: 1000, scale: 10_000) == -13)
    }
}

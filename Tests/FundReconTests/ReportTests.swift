import Foundation
import Postgres
import Testing

@testable import FundRecon

/// Runs Python from the repository's .venv (made by `make pytools`, which `make test` runs).
func python(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let interpreter = repositoryRoot + "/.venv/bin/python"
    guard FileManager.default.isExecutableFile(atPath: interpreter) else {
        throw ReportTestFailure("\(interpreter) is missing: run `make pytools` (make test does)")
    }
    let output = NSTemporaryDirectory() + "recon-py-\(UUID().uuidString).out"
    defer { try? FileManager.default.removeItem(atPath: output) }
    let pid = try ProcessRunner.spawn([interpreter, "-c", script] + arguments, outputPath: output, newSession: false)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let text = FileManager.default.contents(atPath: output).map { String(decoding: $0, as: UTF8.self) } ?? ""
    return ((status >> 8) & 0xff, text)
}

struct ReportTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

let validateJUnit = """
    import sys
    from lxml import etree
    schema = etree.XMLSchema(etree.parse(sys.argv[1]))
    document = etree.parse(sys.argv[2])
    if not schema.validate(document):
        print(schema.error_log)
        sys.exit(1)
    print("valid")
    """

/// A dataset whose names try to break out of HTML and into spreadsheet formulas.
func hostileDataset() throws -> FixtureDataset {
    let fixture = try edgeDataset()
    try fixture.write("oltp/merchants.csv", """
        merchant_id,merchant_name,category,commission_rate,currency,onboarded_at
        1,<script>alert(1)</script>,books,0.1000,USD,2026-01-01T00:00:00Z
        2,"=HYPERLINK(""http://x"",""y"")",toys,0.0500,EUR,2026-01-01T00:00:00Z
        3,@SUM(A1),home,0.1000,USD,2026-01-01T00:00:00Z

        """)
    try fixture.write("resellers/2026-11-01/RS9.xml", """
        <?xml version="1.0" encoding="UTF-8"?>
        <resellerReport resellerId="&lt;script&gt;alert(1)&lt;/script&gt;" reportDate="2026-11-01" currency="USD" fileId="&lt;script&gt;alert(1)&lt;/script&gt;">
        </resellerReport>

        """)
    return fixture
}

@Suite("Reports: valid JUnit, a real workbook, escaped HTML, totals equal to SQL", .serialized)
struct ReportTests {
    @Test func junitValidatesAgainstTheSchemaJenkinsAndGitLabRead() throws {
        func check(_ id: String, _ status: CheckStatus, layer: Layer) -> CheckResult {
            CheckResult(id: id, type: "expression", table: "dwd_<x>", layer: .layer(layer), severity: status == .warn ? .warn : .error,
                        status: status, failingRows: status == .pass ? 0 : 2, observed: [:],
                        sample: [["k": .string("<script>&\"'"), "v": .numeral("1.50")]], sql: "select 1 where 'a' < 'b' & true",
                        durationMS: 3, description: "money & <things>", message: status == .error ? "[42703] no such column \"x\"" : nil,
                        sampleColumns: ["k", "v"])
        }
        var checks = [check("a_pass", .pass, layer: .dwd), check("b_warn", .warn, layer: .dwd),
                      check("c_fail", .fail, layer: .ads), check("d_error", .error, layer: .ods), check("e_waived", .waived, layer: .ads)]
        for index in checks.indices { checks[index].line = 10 + index }
        // Run-specific schema names in a check's SQL are not part of any message or detail.
        checks[2].sql = "select * from \"rc_r20261129000000_abcdef_ads\".\"ads_x\" where k < 0"
        var result = AuditResult(runID: "r20261129000000_abcdef", startedAt: "2026-11-29T00:00:00Z", finishedAt: "2026-11-29T00:00:01Z",
                                 database: "embedded", summary: CheckSummary(checks), checks: checks, stages: [], expectations: "x.yml")
        result.evidence = Evidence(toolVersion: "0.1.0", user: "ci", host: "runner", expectationsSHA256: "ab12", pipelineCommit: "c0ffee")
        let xml = JUnitReport.render(result)
        let path = NSTemporaryDirectory() + "recon-junit-\(UUID().uuidString).xml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(xml.utf8).write(to: URL(fileURLWithPath: path))
        let schema = repositoryRoot + "/Tests/FundReconTests/Fixtures/junit.xsd"
        let valid = try python(validateJUnit, [schema, path])
        #expect(valid.status == 0, "\(valid.output)")
        #expect(xml.contains("<testcase classname=\"ads.expression\" name=\"c_fail\" time=\"0.003\" file=\"x.yml\" line=\"12\">"))
        // The rule, the table, the count and the first failing key.
        #expect(xml.contains("<failure message=\"expression on dwd_&lt;x&gt;: 2 failing rows, expected 0; first: k=&lt;script&gt;&amp;&quot;&apos; v=1.50\" type=\"expression\">"))
        #expect(xml.contains("select * from \"ads_x\" where k &lt; 0") || xml.contains("select * from &quot;ads_x&quot; where k &lt; 0"))
        #expect(!xml.contains("rc_r20261129000000"))
        #expect(xml.contains("<testsuites name=\"recon\""))
        #expect(xml.contains("<property name=\"run_id\" value=\"r20261129000000_abcdef\"/>"))
        #expect(xml.contains("<property name=\"expectations_sha256\" value=\"ab12\"/>"))
        #expect(xml.contains("<property name=\"pipeline_commit\" value=\"c0ffee\"/>"))
        #expect(xml.contains("name=\"e_waived\" time=\"0.003\" file=\"x.yml\" line=\"14\">\n      <system-out>waived: "))
        #expect(xml.contains("<error message=\"[42703] no such column &quot;x&quot;\" type=\"error\">"))
        #expect(xml.contains("<system-out>warning: 2 failing rows, expected 0"))
        // The validator has teeth: a test case without its name is refused.
        try Data(xml.replacingOccurrences(of: " name=\"c_fail\"", with: "").utf8).write(to: URL(fileURLWithPath: path))
        #expect(try python(validateJUnit, [schema, path]).status == 1)
    }

    @Test func htmlAndWorkbookNeverRunDataAndTotalsEqualSQL() throws {
        let fixture = try hostileDataset()
        defer { fixture.remove() }
        let reports = NSTemporaryDirectory() + "recon-reports-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: reports) }
        var request = RunRequest(expectationsPath: repositoryRoot + "/expectations/fund_recon.yml",
                                 pipelineDirectory: repositoryRoot + "/pipeline", reportsDirectory: reports)
        request.vars = ["business_timezone": "America/New_York"]
        request.month = "2026-11"
        let result = try Orchestrator.run(
            request, kind: .ephemeral(database: .server(try SharedCluster.target()), source: .directory(fixture.directory), keepSchemas: true),
            interrupts: nil, logger: quietLogger) { _ in }.audit
        let schemas = RunSchemas(runID: try #require(RunID(result.runID)))
        let connection = try SharedCluster.connect()
        defer { try? RunSession.drop(schemas: schemas.all, on: connection) }

        let html = try String(contentsOfFile: reports + "/monthly-2026-11.html", encoding: .utf8)
        #expect(html.range(of: "<script", options: .caseInsensitive) == nil)
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)"))
        #expect(html.contains("Sign-off"))
        // Every statement's gross sales in the page equal the SQL figure.
        let statement = "\(schemas.name(.ads))"
        let statements = try connection.query(
            "SELECT merchant_id, gross_sales::text, net_payable::text FROM \(schema: statement, table: "ads_monthly_statement") WHERE month_start = '2026-11-01'"
        ).rows
        #expect(!statements.isEmpty)
        for row in statements {
            let gross: String = try row.decode(at: 1)
            let net: String = try row.decode(at: 2)
            // With thousands separators, as finance reads them.
            #expect(html.contains("<td class=\"n\">\(HTMLReport.amount(gross))</td>"))
            #expect(html.contains("<td class=\"n\">\(HTMLReport.amount(net))</td>"))
        }
        // Statements are totalled per currency, never across: each currency's total line equals SQL's.
        for row in try connection.query(
            "SELECT currency, sum(gross_sales)::text FROM \(schema: statement, table: "ads_monthly_statement") WHERE month_start = '2026-11-01' GROUP BY 1"
        ).rows {
            let (currency, total): (String, String) = (try row.decode(at: 0), try row.decode(at: 1))
            let line = try #require(html.components(separatedBy: "<tr").first { $0.contains("Total \(currency)</th>") }, "no total line for \(currency)")
            #expect(line.contains("<th class=\"n\">\(HTMLReport.amount(total))</th>"), "\(currency): \(line)")
        }
        // Breaks are summarised per currency; one without a business day has no age, not 0-1 days.
        for row in try connection.query("""
            SELECT coalesce(currency, '(none)'), count(*) FROM \(schema: statement, table: "ads_recon_breaks")
            WHERE biz_date IS NULL OR date_trunc('month', biz_date) = '2026-11-01' GROUP BY 1
            """).rows {
            let (currency, count): (String, Int) = (try row.decode(at: 0), try row.decode(at: 1))
            let line = try #require(html.components(separatedBy: "<tr").first { $0.contains("<th>\(currency)</th><th>Total") },
                                    "no breaks total for \(currency)")
            #expect(line.contains("<th class=\"n\">\(count)</th>"), "\(currency): \(line)")
        }
        let undated: Int = try connection.query("SELECT count(*) FROM \(schema: statement, table: "ads_recon_breaks") WHERE biz_date IS NULL").scalar()
        if undated > 0 { #expect(html.contains("<th>No date</th>")) }
        let sqlGross: String = try connection.query(
            "SELECT sum(gross_sales)::text FROM \(schema: statement, table: "ads_monthly_statement") WHERE month_start = '2026-11-01'").scalar()
        let sqlBreaks: Int = try connection.query("SELECT count(*) FROM \(schema: statement, table: "ads_recon_breaks") WHERE biz_date IS NULL OR date_trunc('month', biz_date) = '2026-11-01'").scalar()

        let read = try python("""
            import sys, openpyxl
            from decimal import Decimal
            wb = openpyxl.load_workbook(sys.argv[1])
            print("sheets=" + ",".join(wb.sheetnames))
            m = wb["Merchants"]
            header = [c.value for c in m[1]]
            gross = header.index("Gross sales")
            total = sum(Decimal(str(r[gross].value)) for r in m.iter_rows(min_row=2) if r[gross].value is not None)
            print("gross=%.2f" % total)
            print("gross_type=" + m.cell(row=2, column=gross + 1).data_type + " " + m.cell(row=2, column=gross + 1).number_format)
            for r in m.iter_rows(min_row=2):
                name = r[header.index("Name")]
                print("name=%s|%s" % (name.value, name.data_type))
            b = wb["Breaks"]
            print("breaks=%d" % (b.max_row - 1))
            d = [r[6] for r in b.iter_rows(min_row=2) if r[6].value is not None]
            print("date_type=" + (d[0].data_type if d else "none"))
            print("frozen=" + str(m.freeze_panes) + " filter=" + str(m.auto_filter.ref))
            s = {r[0].value: r[1] for r in wb["Summary"].iter_rows(min_row=2)}
            print("started=" + s["Started"].data_type + " month=" + s["Month"].data_type + " " + s["Month"].number_format)
            print("stages_in_summary=" + str(any(str(k).startswith("Stage") for k in s)))
            merchant = [r[3] for r in b.iter_rows(min_row=2) if r[3].value is not None]
            print("break_merchant=" + ",".join(sorted(set(c.data_type for c in merchant))))
            print("landscape=" + m.page_setup.orientation + " fit=" + str(m.sheet_properties.pageSetUpPr.fitToPage))
            g = wb["Gateway month"]
            print("gateway_totals=" + ",".join(sorted(r[1].value for r in g.iter_rows(min_row=2) if r[0].value == "Total")))
            print("signoff=" + ",".join(str(r[0].value) + ":" + str(r[4].value) for r in wb["Sign-off"].iter_rows(min_row=2)))
            for r in wb["Break summary"].iter_rows(min_row=2):
                if r[1].value == "Total": print("break_total=%s:%s" % (r[0].value, r[2].value))
            """, [reports + "/monthly-2026-11.xlsx"])
        #expect(read.status == 0, "\(read.output)")
        let lines = read.output.split(separator: "\n").map(String.init)
        #expect(lines.contains("sheets=Summary,Sign-off,Checks,Failures,Break summary,Breaks,Gateway,Gateway month,Bridge,Merchants,Run"),
                "\(lines)")
        // The workbook's break summary has a total per currency, each equal to SQL's count.
        for row in try connection.query("""
            SELECT coalesce(currency, '(none)'), count(*) FROM \(schema: statement, table: "ads_recon_breaks")
            WHERE biz_date IS NULL OR date_trunc('month', biz_date) = '2026-11-01' GROUP BY 1
            """).rows {
            #expect(lines.contains("break_total=\(try row.decode(String.self, at: 0)):\(try row.decode(Int.self, at: 1))"), "\(lines)")
        }
        // Times and months are dates, merchant ids one type, timings on their own sheet, every sheet prints landscape.
        #expect(lines.contains("started=d month=d yyyy-mm"), "\(lines)")
        #expect(lines.contains("stages_in_summary=False"))
        #expect(lines.contains { $0.hasPrefix("break_merchant=") && !$0.contains("s") }, "\(lines)")
        #expect(lines.contains("landscape=landscape fit=True"), "\(lines)")
        let currencies = try connection.query(
            "SELECT string_agg(DISTINCT currency, ',' ORDER BY currency) FROM \(schema: schemas.name(.dws), table: "dws_gateway_daily") WHERE date_trunc('month', biz_date) = '2026-11-01'"
        ).scalar(String?.self) ?? ""
        #expect(lines.contains("gateway_totals=" + currencies), "\(lines)")
        #expect(lines.contains("signoff=preparer:not signed,reviewer:not signed"), "\(lines)")
        #expect(lines.contains("gross=\(sqlGross)"))
        #expect(lines.contains("gross_type=n #,##0.00"))
        #expect(lines.contains("name==HYPERLINK(\"http://x\",\"y\")|s"))
        #expect(lines.contains("name=@SUM(A1)|s"))
        #expect(lines.contains("name=<script>alert(1)</script>|s"))
        #expect(lines.contains("breaks=\(sqlBreaks)"))
        #expect(lines.contains("date_type=d"))
        #expect(lines.contains("frozen=A2 filter=A1:M\(statements.count + 1)"))
    }

    /// The gateway bridge of two months: on clean data every amount is explained by the month's
    /// captures, the captures settled later or earlier, and its refunds; its settled gross ties to
    /// the settlement files per gateway and currency to the cent (summed here from the files), its
    /// Stripe payouts to the payout files; every line's arithmetic holds exactly.
    @Test func amountsAreGroupedByThousands() {
        #expect(HTMLReport.amount("1234567.80") == "1,234,567.80")
        #expect(HTMLReport.amount("-1234.5") == "-1,234.5")
        #expect(HTMLReport.amount("999.00") == "999.00")
        #expect(HTMLReport.amount("+1500.00") == "+1,500.00")  // a change, as diffs show it
        #expect(HTMLReport.amount("new") == "new")
    }

    @Test func gatewayBridgesTieToTheSettlementFiles() throws {
        let data = NSTemporaryDirectory() + "recon-bridge-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let spec = GeneratorSpec(seed: 11, start: CalendarDate("2026-10-25")!, days: 12, ordersPerDay: 60)
        _ = try DatasetGenerator.generate(spec, to: data, logger: quietLogger)
        var request = RunRequest(expectationsPath: "", pipelineDirectory: repositoryRoot + "/pipeline", reportsDirectory: "")
        request.formats = []
        request.tasks = [.initializeETLEnvironment, .importMainData, .importResellerData, .runDbtInitTasks, .runDbtModel]
        let run = try Orchestrator.run(request, kind: .ephemeral(database: .server(try SharedCluster.target()), source: .directory(data),
                                                                 keepSchemas: true), interrupts: nil, logger: quietLogger) { _ in }
        let schemas = RunSchemas(runID: try #require(RunID(run.audit.runID)))
        let connection = try SharedCluster.connect()
        defer { try? RunSession.drop(schemas: schemas.all, on: connection) }

        // The files, summed here: Stripe's lines and payouts, Adyen's settled and refunded lines.
        var files: [String: Cents] = [:]
        var stripePayouts: [String: Cents] = [:]
        func rows(_ path: String) throws -> [[String]] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
                .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: data + "/gateway/stripe") {
            for row in try rows(data + "/gateway/stripe/" + name) where row.count >= 4 {
                if name.hasPrefix("payouts_") {
                    stripePayouts[row[2].uppercased(), default: Cents(0)] += Cents(row[3])!
                } else if row.count > 4 {
                    files["stripe " + row[3].uppercased(), default: Cents(0)] += Cents(row[4])!
                }
            }
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: data + "/gateway/adyen") {
            for row in try rows(data + "/gateway/adyen/" + name) where row.count > 11 && (row[7] == "Settled" || row[7] == "Refunded") {
                files["adyen " + row[9], default: Cents(0)] += (Cents(row[11]) ?? Cents(0)) - (Cents(row[10]) ?? Cents(0))
            }
        }
        let bridge = try connection.query("""
            SELECT gateway, currency, month_start::text, captured::text, captured_settled_later::text, settled_for_earlier::text,
                   refunds_settled::text, unexplained::text, settled_gross::text, fees::text, settled_net::text, paid_out::text, in_transit::text
            FROM \(schema: schemas.name(.ads), table: "ads_gateway_bridge") ORDER BY 1, 2, 3
            """).rows.map { $0.texts.map { $0 ?? "" } }
        #expect(Set(bridge.map { $0[2] }) == ["2026-10-01", "2026-11-01"])
        var settled: [String: Cents] = [:]
        var paid: [String: Cents] = [:]
        for row in bridge {
            let money = row.dropFirst(3).map { Cents($0)! }
            let (captured, later, earlier, refunds, unexplained, gross, fees, net, paidOut, transit) =
                (money[0], money[1], money[2], money[3], money[4], money[5], money[6], money[7], money[8], money[9])
            #expect(unexplained == Cents(0), "\(row): every amount of clean data is explained")
            #expect(captured - later + earlier + refunds + unexplained == gross, "\(row)")
            #expect(gross - fees == net && net - paidOut == transit, "\(row)")
            settled[row[0] + " " + row[1], default: Cents(0)] += gross
            if row[0] == "stripe" { paid[row[1], default: Cents(0)] += paidOut }
        }
        #expect(settled == files)
        // Clean data captures what was sold, once: nothing captured beyond the sales.
        let beyond: Int = try connection.query("""
            SELECT count(*) FILTER (WHERE captured_beyond_sales <> 0 OR sales <= 0) FROM \(schema: schemas.name(.ads), table: "ads_gateway_bridge")
            WHERE captured > 0
            """).scalar()
        #expect(beyond == 0)
        #expect(paid == stripePayouts)
        // What is captured in October and settled in November leaves one month and enters the next.
        for key in Set(bridge.map { $0[0] + " " + $0[1] }) {
            let october = try #require(bridge.first { $0[0] + " " + $0[1] == key && $0[2] == "2026-10-01" })
            let november = try #require(bridge.first { $0[0] + " " + $0[1] == key && $0[2] == "2026-11-01" })
            #expect(october[4] == november[5], "\(key): settled later in October = settled for earlier in November")
        }

        // November's pack compares with October: the bridge's and the statements' prior figures are October's.
        let tables = try ReportTables(project: PipelineProject.load(directory: repositoryRoot + "/pipeline")).located(in: schemas)
        let figures = try ReportData.collect(tables: tables, connection: connection, zone: "UTC", month: "2026-11")
        let gross = ReportData.bridgeColumns.firstIndex { $0.column == "settled_gross" }!
        for row in bridge where row[2] == "2026-10-01" {
            #expect(figures.priorBridges["\(row[0]) \(row[1])"]?[gross] == row[8], "\(row)")
        }
        let octoberNet = try connection.query("""
            SELECT merchant_id || ' ' || currency, net_payable::text FROM \(schema: schemas.name(.ads), table: "ads_monthly_statement")
            WHERE month_start = '2026-10-01'
            """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
        #expect(!octoberNet.isEmpty)
        for (key, net) in octoberNet { #expect(figures.priorStatements[key]?.first == net, "\(key)") }
        var context = ReportContext()
        context.month = "2026-11"
        let html = HTMLReport.render(run.audit, data: figures, context: context)
        #expect(html.contains("<h3>Compared with the prior month</h3>") && html.contains("<th>Net payable, prior month</th>"))
    }
}

@Suite("Break materiality: every break weighed in the packs")
struct BreakMaterialityTests {
    /// `break_materiality` per currency marks each break: within at or below its currency's amount,
    /// material above it, and material when there is no money or no amount to weigh it by; the
    /// summary's count is the same judgement in SQL.
    @Test func eachBreakIsMaterialAboveItsCurrencysAmount() throws {
        let file = try ExpectationsParser.parse(text: """
            version: 1
            break_materiality: {amount: {USD: 1.00, EUR: 600}}
            checks:
              - {id: x, type: not_null, table: t, columns: [c]}
            """, file: "m.yml")
        let materiality = try #require(file.breakMateriality)
        #expect(materiality.text == "EUR 600.00, USD 1.00")
        let connection = try SharedCluster.connect()
        let schema = "break_materiality_\(UInt32.random(in: 0...UInt32.max))"
        try connection.executeScript("""
            CREATE SCHEMA \(schema);
            CREATE TABLE \(schema).breaks (break_type text, entity_type text, entity_key text, merchant_id bigint, gateway text,
                currency text, biz_date date, expected_amount numeric(18,2), actual_amount numeric(18,2), diff_amount numeric(18,2),
                age_days int, detail text);
            INSERT INTO \(schema).breaks VALUES
              ('fee_mismatch', 'line', 'cent', 1, 'stripe', 'USD', '2026-10-02', 0.89, 0.90, 0.01, 3, ''),
              ('fee_mismatch', 'line', 'dollar', 1, 'stripe', 'USD', '2026-10-02', 0.89, 1.89, 1.00, 3, ''),
              ('duplicate_capture', 'order', 'big', 1, 'stripe', 'USD', '2026-10-02', 500.00, 1000.00, 500.00, 3, ''),
              ('missing_settlement', 'payment', 'whole', 1, 'adyen', 'EUR', '2026-10-02', 500.00, 0.00, 0.00, 3, ''),
              ('missing_settlement', 'payment', 'large', 1, 'adyen', 'EUR', '2026-10-02', 700.00, 0.00, 0.00, 3, ''),
              ('fee_mismatch', 'line', 'yen', 1, 'adyen', 'JPY', '2026-10-02', 1, 2, 1, 3, ''),
              ('malformed_record', 'source_record', 'orders.csv:7', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'bad amount');
            """)
        defer { try? connection.execute(SQL(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")) }
        var marks: [String: Bool] = [:]
        try ReportData.breaks(table: SQL(unsafeSQL: "\(schema).breaks"), connection: connection, month: nil, materiality: materiality,
                              limit: nil) { marks[$0.entityKey] = $0.material }
        #expect(marks == ["cent": false, "dollar": false, "big": true, "whole": false, "large": true, "yen": true, "orders.csv:7": true])
        let counted: Int = try connection.query("""
            SELECT count(*) FILTER (WHERE \(ReportData.material(materiality))) FROM \(SQL(unsafeSQL: "\(schema).breaks"))
            """).scalar()
        #expect(counted == 4)
        // The pack shows each mark, and a break's date on one line.
        var data = ReportData()
        data.breakMateriality = materiality
        data.breakTypes = [ReportData.BreakType(breakType: "fee_mismatch", count: 2, amount: "1.01", aging: [0, 2, 0, 0, 0], currency: "USD",
                                                material: 0)]
        try ReportData.breaks(table: SQL(unsafeSQL: "\(schema).breaks"), connection: connection, month: nil, materiality: materiality,
                              limit: nil) { data.breaks.append($0) }
        let html = HTMLReport.breaks(data)
        #expect(html.contains("A break is material above EUR 600.00, USD 1.00"))
        #expect(html.contains("<td class=\"d\">2026-10-02</td>"))
        #expect(html.components(separatedBy: ">material</td>").count - 1 == 4 && html.components(separatedBy: ">within</td>").count - 1 == 3)
        // The register weighs its entries by the same rule (their difference, per currency).
        func entry(_ amount: String?, _ currency: String?) -> BreakRegister.Entry {
            BreakRegister.Entry(breakType: "fee_mismatch", entityType: "line", entityKey: "k", currency: currency, merchantID: nil, bizDate: nil,
                                amount: amount, detail: nil, firstSeen: "", lastSeen: "", status: .open, resolvedOn: nil, owner: nil,
                                comment: nil, ageDays: nil)
        }
        #expect(!entry("-0.50", "USD").isMaterial(by: materiality) && !entry("1.00", "USD").isMaterial(by: materiality))
        #expect(entry("-1.01", "USD").isMaterial(by: materiality) && !entry("-600.00", "EUR").isMaterial(by: materiality))
        #expect(entry(nil, nil).isMaterial(by: materiality) && entry("0.00", "USD").isMaterial(by: materiality) && entry("1", "JPY").isMaterial(by: materiality))
        // Without break_materiality nothing is marked; a relative share is refused with the line.
        var unmarked: [Bool?] = []
        try ReportData.breaks(table: SQL(unsafeSQL: "\(schema).breaks"), connection: connection, month: nil, materiality: nil,
                              limit: nil) { unmarked.append($0.material) }
        #expect(unmarked.count == 7 && unmarked.allSatisfy { $0 == nil })
        #expect(throws: ExpectationsError.self) {
            try ExpectationsParser.parse(text: "version: 1\nbreak_materiality: {relative: 0.01}\nchecks: []\n", file: "r.yml")
        }
        do {
            _ = try ExpectationsParser.parse(text: "version: 1\nbreak_materiality: {amount: 1, relative: 0.01}\nchecks: []\n", file: "r.yml")
        } catch let error as ExpectationsError {
            #expect(error.line == 2 && "\(error)".contains("break_materiality takes an amount"), "\(error)")
        }
    }
}

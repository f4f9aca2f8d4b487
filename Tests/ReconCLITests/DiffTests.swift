import Foundation
import Postgres
import Testing

@testable import FundRecon

/// A git repository made for one test: the project's pipeline and expectations, committed as the
/// base; edits to the working tree are the head.
struct DiffRepository {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "recon-difftest-\(UUID().uuidString)"
        let project = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for folder in ["pipeline", "expectations"] {
            try FileManager.default.copyItem(atPath: project + "/" + folder, toPath: root + "/" + folder)
        }
        try git("init", "-q")
        try git("add", "pipeline", "expectations")
        try git("commit", "-q", "-m", "base")
    }

    @discardableResult
    func git(_ arguments: String...) throws -> String {
        let outcome = try ProcessRunner.run("/usr/bin/git", ["-C", root, "-c", "user.name=test", "-c", "user.email=test@example.com"] + arguments)
        guard outcome.status == 0 else { throw ReconProcess.Failure("git \(arguments): \(outcome.output)") }
        return outcome.output
    }

    /// Rewrites a file of the working tree.
    func edit(_ path: String, _ transform: (String) -> String) throws {
        let file = root + "/" + path
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let changed = transform(text)
        precondition(changed != text, "the edit of \(path) changed nothing")
        try Data(changed.utf8).write(to: URL(fileURLWithPath: file))
    }

    /// `recon diff` of the working tree against HEAD on the shared server, on a generated dataset.
    func diff(_ extra: [String], start: String = "2026-10-01", days: Int = 3, database: [String]? = nil,
              reports: String? = nil) throws -> (status: Int32, output: String, json: [String: Any]) {
        let reports = reports ?? root + "/reports"
        let result = try ReconProcess.run([
            "diff", "--pipeline", root + "/pipeline", "--expectations", root + "/expectations/fund_recon.yml",
            "--reports", reports, "--quiet"] + (try database ?? ["--db", ServerUnderTest.target().conninfo]) + [
            "--generate", "--start", start, "--days", String(days), "--orders-per-day", "300", "--anomalies", "all=1",
        ] + (extra.contains("--base-dir") || extra.contains("--base") ? [] : ["--base", "HEAD"]) + extra)
        let data = FileManager.default.contents(atPath: reports + "/diff.json") ?? Data()
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (result.status, result.output, json)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// The models of a diff.json, by name.
func diffModels(_ json: [String: Any]) -> [String: [String: Any]] {
    let models = (json["diff"] as? [String: Any])?["models"] as? [[String: Any]] ?? []
    return Dictionary(models.map { ($0["model"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
}

@Suite("recon diff: what a pipeline change does to the money", .serialized)
struct DiffTests {
    /// On a coordinator and two workers (tables distributed as declared) the diff of a change is
    /// the one PostgreSQL gives: every model's rows, cells, money and causes, every check.
    @Test func onCitusTheDiffEqualsOnePostgreSQLs() throws {
        let repository = try DiffRepository()
        defer { repository.remove() }
        try repository.edit("pipeline/models/dwd/dwd_refunds.sql") {
            $0.replacingOccurrences(of: "upper(currency) as currency, amount, reason",
                                    with: "upper(currency) as currency, (amount - 0.50)::numeric(18,2) as amount, reason")
        }
        let single = try repository.diff([], days: 2, reports: repository.root + "/single")
        let citus = try repository.diff([], days: 2, database: ["--embedded-citus", "2"], reports: repository.root + "/citus")
        #expect(single.status == 1 && citus.status == 1, "\(citus.output)")
        func comparable(_ json: [String: Any]) throws -> String {
            var diff = json["diff"] as? [String: Any] ?? [:]
            diff["timings"] = nil
            diff["runs"] = nil  // run ids
            let text = String(decoding: try JSONSerialization.data(withJSONObject: diff, options: [.sortedKeys]), as: UTF8.self)
            return text.replacingOccurrences(of: #"r20\d{6}\d+_[0-9a-f]+"#, with: "RUN", options: .regularExpression)
                .replacingOccurrences(of: #""duration_ms":\d+"#, with: "", options: .regularExpression)
        }
        #expect(!diffModels(citus.json).isEmpty)
        #expect(try comparable(citus.json) == comparable(single.json))
    }

    @Test func refundRuleChangeShowsRowsMoneyLineageAndChecks() throws {
        let repository = try DiffRepository()
        defer { repository.remove() }
        // A new refund rule: refunds are recorded 0.50 lower.
        try repository.edit("pipeline/models/dwd/dwd_refunds.sql") {
            $0.replacingOccurrences(of: "upper(currency) as currency, amount, reason",
                                    with: "upper(currency) as currency, (amount - 0.50)::numeric(18,2) as amount, reason")
        }
        let result = try repository.diff([])
        #expect(result.status == 1, "a check that starts failing breaks the default policy: \(result.output)")
        #expect(result.output.contains("check got worse: gateway_alignment_refunds: pass -> fail"), "\(result.output)")
        let models = diffModels(result.json)

        let refunds = try #require(models["dwd_refunds"])
        #expect(refunds["sql_changed"] as? Bool == true)
        #expect(refunds["key"] as? [String] == ["refund_id"])
        let changed = refunds["changed"] as? Int ?? 0
        #expect(changed > 0 && changed == refunds["rows_head"] as? Int, "every refund changes")
        #expect((refunds["changed_columns"] as? [String: Int]) == ["amount": changed])
        // The money: per currency, 0.50 for every refund in it; per day, summing to the total.
        let money = refunds["money"] as? [[String: Any]] ?? []
        let totals = money.filter { $0["dimension"] as? String == "total" }
        let totalDelta = totals.compactMap { Cents($0["delta"] as? String ?? "") }.reduce(Cents(0), +)
        #expect(totalDelta == Cents(Int64(-50 * changed)))
        for total in totals {
            let currency = total["currency"] as? String
            let days = money.filter { $0["dimension"] as? String == "day" && $0["currency"] as? String == currency }
            #expect(!days.isEmpty)
            #expect(days.compactMap { Cents($0["delta"] as? String ?? "") }.reduce(Cents(0), +) == Cents(total["delta"] as? String ?? ""))
        }
        let sample = try #require((refunds["samples"] as? [[String: Any]])?.first)
        let cell = try #require((sample["columns"] as? [[String: Any]])?.first)
        #expect(cell["column"] as? String == "amount")
        #expect(cell["difference"] as? String == "-0.50")

        // Downstream models changed because of it, and say so.
        for name in ["dws_merchant_daily", "ads_monthly_statement", "ads_merchant_balance_daily"] {
            let model = try #require(models[name])
            #expect((model["changed"] as? Int ?? 0) > 0, "\(name)")
            #expect(model["sql_changed"] as? Bool == false)
            #expect((model["causes"] as? [String])?.first == "dwd_refunds", "\(name)")
        }
        // Models the change cannot reach are equal by construction and not scanned.
        #expect(models["dwd_orders"]?["status"] as? String == "same_inputs")
        // A model without a key is compared as a multiset, and says so.
        #expect((models["ads_breaks_gateway"]?["key_source"] as? String ?? "").contains("multiset"))
        // Breaks added: the break table compared by its entity keys.
        let breaks = try #require(models["ads_recon_breaks"])
        #expect(breaks["key"] as? [String] == ["break_type", "entity_type", "entity_key"])
        #expect((breaks["added"] as? Int ?? 0) > 0)
        let checks = (result.json["diff"] as? [String: Any])?["checks"] as? [[String: Any]] ?? []
        #expect(checks.contains { $0["id"] as? String == "gateway_alignment_refunds" && $0["base"] as? String == "pass" && $0["head"] as? String == "fail" })

        // The other files: a comment-sized Markdown, the HTML, JUnit with a case per model and check.
        let markdown = try String(contentsOfFile: repository.root + "/reports/diff.md", encoding: .utf8)
        #expect(markdown.count <= 60_000)
        #expect(markdown.contains("| `dwd_refunds` | amount | USD |"))
        // Amounts as finance reads them: thousands grouped (a merchant's net payable runs past 1,000).
        #expect(markdown.range(of: #"\| `dws_merchant_daily` \| net_payable \| [A-Z]{3} \| [0-9]{1,3}(,[0-9]{3})+\.[0-9]{2} \|"#,
                               options: .regularExpression) != nil, "\(markdown.prefix(3000))")
        let html = try String(contentsOfFile: repository.root + "/reports/diff.html", encoding: .utf8)
        #expect(html.contains("id=\"m-dwd_refunds\"") && html.contains("<del>") && html.contains("<ins>"))
        let junit = try String(contentsOfFile: repository.root + "/reports/diff-junit.xml", encoding: .utf8)
        #expect(junit.contains("name=\"gateway_alignment_refunds\"><failure"))
        // A test case per model and per check of either side (67 in fund_recon.yml), failing where the policy is broken.
        let outcomes = (result.json["diff"] as? [String: Any])?["check_outcomes"] as? [[String: Any]] ?? []
        #expect(outcomes.count == 67)
        #expect(junit.components(separatedBy: "<testcase").count - 1 == models.count + outcomes.count)
        #expect(junit.contains("<testcase classname=\"diff.check\" name=\"dwd_orders_unique\"/>"))
        // The money rule: a tolerance above the largest total's change passes, one below fails naming it.
        let tolerant = try repository.diff(["--fail-on", "money", "--money-tolerance", "1000000"])
        #expect(tolerant.status == 0, "\(tolerant.output)")
        let strict = try repository.diff(["--fail-on", "money", "--money-tolerance", "0.49"])
        #expect(strict.status == 1)
        #expect(strict.output.contains("dwd_refunds.amount USD total moved -"), "\(strict.output)")
        // No schema of either side is left behind.
        let runs = try #require((result.json["diff"] as? [String: Any])?["runs"] as? [String: String])
        #expect(runs.count == 2)
        let schemas = runs.values.flatMap { run in ["oltp", "ods", "dwd", "dws", "ads"].map { "rc_\(run)_\($0)" } }
        #expect(try ServerUnderTest.schemaCount(schemas) == 0)
    }

    @Test func aChangeToAClosedMonthFailsNamingThePeriod() throws {
        let repository = try DiffRepository()
        defer { repository.remove() }
        // Only October's refunds change; the data runs from October 24 to November 2.
        try repository.edit("pipeline/models/dwd/dwd_refunds.sql") {
            $0.replacingOccurrences(of: "upper(currency) as currency, amount, reason", with: """
                upper(currency) as currency,
                       (case when refunded_at < timestamptz '2026-11-01 00:00:00+00' then amount - 0.50 else amount end)::numeric(18,2) as amount, reason
                """)
        }
        let closed = try repository.diff(["--closed-through", "2026-10-31", "--fail-on", "closed"], start: "2026-10-24", days: 10)
        #expect(closed.status == 1, "\(closed.output)")
        #expect(closed.output.contains("changes the closed period through 2026-10-31"), "\(closed.output)")
        let refunds = try #require(diffModels(closed.json)["dwd_refunds"])
        #expect((refunds["closed_rows"] as? Int ?? 0) > 0)
        #expect(refunds["closed_rows"] as? Int == refunds["changed"] as? Int, "every changed refund is October's")
        // With October still open, the same change passes the same policy.
        let open = try repository.diff(["--closed-through", "2026-09-30", "--fail-on", "closed"], start: "2026-10-24", days: 10)
        #expect(open.status == 0, "\(open.output)")
        #expect((diffModels(open.json)["dwd_refunds"]?["changed"] as? Int ?? 0) > 0)
    }

    @Test func aCosmeticChangeIsNoDifference() throws {
        let repository = try DiffRepository()
        defer { repository.remove() }
        try repository.edit("pipeline/models/dwd/dwd_refunds.sql") {
            $0.replacingOccurrences(of: "select refund_id, order_id,", with: "SELECT\n    refund_id,\n    order_id, -- reformatted\n   ")
                .replacingOccurrences(of: "from ranked", with: "FROM ranked")
        }
        let result = try repository.diff(["--fail-on", "any"])
        #expect(result.status == 0, "\(result.output)")
        let models = diffModels(result.json)
        #expect(models["dwd_refunds"]?["sql_changed"] as? Bool == true)
        #expect(models.values.allSatisfy { ($0["added"] as? Int ?? 0) + ($0["removed"] as? Int ?? 0) + ($0["changed"] as? Int ?? 0) == 0 })
        #expect(((result.json["diff"] as? [String: Any])?["checks"] as? [Any])?.isEmpty == true)
    }

    @Test func addedAndRemovedModelsAndColumnsAreListed() throws {
        let repository = try DiffRepository()
        defer { repository.remove() }
        try repository.git("rm", "-q", "pipeline/models/dwd/dwd_dedup_report.sql")
        try Data("{{ config(materialized='table') }}\nselect currency, sum(amount)::numeric(18,2) as refunded from {{ ref('dwd_refunds') }} group by currency\n".utf8)
            .write(to: URL(fileURLWithPath: repository.root + "/pipeline/models/dws/dws_refund_totals.sql"))
        try repository.edit("pipeline/models/ads/ads_recon_summary_daily.sql") { text in
            // One column more at the end of the final select.
            guard let range = text.range(of: "select ", options: .backwards) else { return text }
            return text.replacingOccurrences(of: "select ", with: "select 'v2'::text as summary_version, ", range: range)
        }
        // And one column fewer in another.
        try repository.edit("pipeline/models/ods/ods_load_summary.sql") {
            $0.replacingOccurrences(of: "       count(*) filter (where status = 'truncated') as files_truncated,\n", with: "")
        }
        let result = try repository.diff(["--fail-on", "none"])
        #expect(result.status == 0, "\(result.output)")
        let models = diffModels(result.json)
        #expect(models["ods_load_summary"]?["columns_removed"] as? [String] == ["files_truncated"])
        #expect(models["dwd_dedup_report"]?["status"] as? String == "removed")
        #expect(models["dws_refund_totals"]?["status"] as? String == "added")
        #expect(models["ads_recon_summary_daily"]?["columns_added"] as? [String] == ["summary_version"])
        // A second checkout as the base gives the same answer as the revision.
        let checkout = repository.root + "-base"
        defer { try? FileManager.default.removeItem(atPath: checkout) }
        _ = try ProcessRunner.run("/usr/bin/git", ["clone", "-q", repository.root, checkout])
        let byFolder = try repository.diff(["--fail-on", "none", "--base-dir", checkout])
        #expect(byFolder.status == 0, "\(byFolder.output)")
        #expect(diffModels(byFolder.json)["dws_refund_totals"]?["status"] as? String == "added")
    }

    /// docs/ci.md's jobs run scripts/ci-diff.sh: run here as they run it, from the repository's top.
    @Test func ciScriptGatesAPullRequest() throws {
        let repository = try DiffRepository()
        defer { repository.remove() }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/scripts/ci-diff.sh"
        func gate() throws -> ProcessRunner.Outcome {
            let environment = "RECON='\(ReconProcess.binary)' DIFF_DB='\(try ServerUnderTest.target().conninfo)' DIFF_DAYS=3 "
                + "DIFF_ORDERS_PER_DAY=300 DIFF_CLOSED_THROUGH=2026-10-31"
            return try ProcessRunner.run("/bin/sh", ["-c", "cd '\(repository.root)' && \(environment) sh '\(script)' HEAD"])
        }
        try repository.edit("pipeline/models/dwd/dwd_refunds.sql") {
            $0.replacingOccurrences(of: "upper(currency) as currency, amount, reason",
                                    with: "upper(currency) as currency, (amount - 0.50)::numeric(18,2) as amount, reason")
        }
        let changed = try gate()
        #expect(changed.status == 1, "\(changed.output)")
        let comment = try String(contentsOfFile: repository.root + "/reports/diff.md", encoding: .utf8)
        #expect(comment.contains("**❌ Fails**") && comment.contains("closed period through 2026-10-31"), "\(comment)")
        try repository.git("checkout", "-q", "--", "pipeline")
        let unchanged = try gate()
        #expect(unchanged.status == 0, "\(unchanged.output)")
        #expect(try String(contentsOfFile: repository.root + "/reports/diff.md", encoding: .utf8).contains("No model's output differs."))
    }

    @Test func badRequestsExitTwo() throws {
        let repository = try DiffRepository()
        defer { repository.remove() }
        let unknown = try repository.diff(["--base", "no-such-branch"])
        #expect(unknown.status == 2)
        #expect(unknown.output.contains("no revision 'no-such-branch'"), "\(unknown.output)")
        let policy = try ReconProcess.run(["diff", "--base", "HEAD", "--generate", "--fail-on", "sometimes"])
        #expect(policy.status == 2)
        #expect(policy.output.contains("--fail-on 'sometimes'"), "\(policy.output)")
    }
}

import Foundation
import Postgres
import Testing

@testable import FundRecon

/// The tool under a hostile or careless user, as the command line meets them (issue 19): hostile
/// expectations, bad files, signals, lost connections, small data. No crash, no secret in a
/// report, nothing left behind, one documented exit code each.
@Suite("recon under hostile input and faults", .serialized)
struct HostileRunTests {
    static let root = AuditCommandTests.root

    func scratch() -> String {
        let directory = NSTemporaryDirectory() + "recon-e2e-hostile-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    func audit(_ extra: [String], reports: String, environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let expectations = extra.contains("--expectations") ? [] : ["--expectations", Self.root + "/expectations/fund_recon.yml"]
        return try ReconProcess.run(["audit", "--reports", reports, "--pipeline", Self.root + "/pipeline"] + expectations + extra,
                                    environment: environment)
    }

    /// Every report file of a run as one text (the workbook's XML unzipped).
    func reportText(_ reports: String) throws -> String {
        var text = ""
        for name in try FileManager.default.contentsOfDirectory(atPath: reports) {
            let path = reports + "/" + name
            if name.hasSuffix(".xlsx") {
                let unzipped = try python("""
                    import sys, zipfile
                    z = zipfile.ZipFile(sys.argv[1])
                    print("".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()))
                    """, [path])
                #expect(unzipped.status == 0, "\(unzipped.output)")
                text += unzipped.output
            } else {
                text += (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            }
        }
        return text
    }

    /// Runs a script with the repository's .venv Python (make pytools), returning status and output.
    func python(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let output = NSTemporaryDirectory() + "recon-e2e-py-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let pid = try ProcessRunner.spawn([Self.root + "/.venv/bin/python", "-c", script] + arguments, outputPath: output,
                                          newSession: false)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return ((status >> 8) & 0xff, FileManager.default.contents(atPath: output).map { String(decoding: $0, as: UTF8.self) } ?? "")
    }

    func statuses(_ reports: String) throws -> [String: String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: reports + "/results.json"))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let checks = json?["checks"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: checks.map { ($0["id"] as? String ?? "", $0["status"] as? String ?? "") })
    }

    /// The attacks of Tests/Fixtures/hostile_checks.yml on the embedded default and on a server
    /// reached with a superuser URL: each check errors, the checks after it pass, the run exits 3.
    @Test(arguments: [false, true])
    func hostileExpectationsEndAsCheckErrors(onServer: Bool) throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        unlink("/tmp/recon-hostile-export")
        var extra = ["--generate", "--days", "2", "--orders-per-day", "20", "--expectations", Self.root + "/Tests/Fixtures/hostile_checks.yml"]
        var admin: Connection?
        var victim: Connection?
        var largeObjects = 0
        let secret = "the victim row \(UUID().uuidString)"
        if onServer {
            let target = try ServerUnderTest.target()
            extra += ["--db", target.conninfo]
            let connection = try Connection(target)
            try connection.executeScript("""
                CREATE EXTENSION IF NOT EXISTS dblink;
                CREATE TABLE IF NOT EXISTS public.recon_hostile_victim (secret text);
                """)
            // Its own row: the table is shared with CheckReaderTests (same cluster), never dropped.
            try connection.execute("INSERT INTO public.recon_hostile_victim VALUES (\(secret))")
            largeObjects = try connection.query("SELECT count(*) FROM pg_largeobject_metadata").scalar()
            victim = try Connection(target, applicationName: "recon-hostile-victim")
            admin = connection
        }
        let result = try audit(extra, reports: directory + "/reports")
        #expect(result.status == 3, "\(result.output)")
        let found = try statuses(directory + "/reports")
        for (id, status) in found {
            #expect(status == (id.hasPrefix("after_") ? "pass" : "error"), "\(id): \(status)")
        }
        #expect(found.count == 18)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/recon-hostile-export"))
        let reports = try reportText(directory + "/reports")
        #expect(reports.contains("write_a_server_file"))
        #expect(!reports.contains("root:x:0"))
        #expect(!reports.contains("SCRAM-SHA-256$"))
        #expect(!reports.contains("the victim row"))
        if let admin, let victim {
            #expect(try admin.query("SELECT count(*) FROM public.recon_hostile_victim WHERE secret = \(secret)").scalar(Int.self) == 1)
            #expect(try admin.query("SELECT count(*) FROM pg_largeobject_metadata").scalar(Int.self) == largeObjects)
            #expect(try victim.query("SELECT 1").scalar(Int.self) == 1)
            let runID = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("recon: run r") }
                .map { String($0.dropFirst("recon: run ".count).prefix(22)) })
            #expect(try admin.query("SELECT count(*) FROM pg_roles WHERE rolname LIKE \("recon_reader_" + runID + "%")")
                .scalar(Int.self) == 0)
        }
    }

    /// `created_at` 9999-12-31 used to run a model for minutes while the cluster filled the disk:
    /// it is a reject now, the audit finishes and the gate names it.
    @Test func aFarFutureTimestampIsARejectAndTheAuditFinishes() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let generated = try ReconProcess.run(["generate", "--out", directory + "/data", "--start", "2026-10-01", "--days", "3", "--orders-per-day", "20", "-q"])
        #expect(generated.status == 0, "\(generated.output)")
        let orders = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/data/oltp/orders.csv"))
        try orders.seekToEnd()
        try orders.write(contentsOf: Data("99999,1,10,web,,USD,12.50,,0.00,paid,9999-12-31T23:59:59Z\n".utf8))
        try orders.close()
        let result = try audit(["--data", directory + "/data"], reports: directory + "/reports")
        #expect(result.status == 1, "\(result.output)")
        #expect(try statuses(directory + "/reports")["ods_no_rejected_records"] == "fail")
        #expect(result.output.contains("FAIL  ods_no_rejected_records"))
    }

    /// A generated dataset of any length passes its own audit (every extract has rows, or passes
    /// its check for a reason its description gives).
    @Test(arguments: [1, 2, 3])
    func aShortGeneratedDatasetPassesItsOwnAudit(days: Int) throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try audit(["--generate", "--days", String(days), "--orders-per-day", "20"], reports: directory + "/reports")
        #expect(result.status == 0, "\(result.output)")
    }

    /// Report failures are never read as "a check failed": a reports path that is a file is bad
    /// input (exit 2, before any work); a text past Excel's cell limit is cut in the workbook with
    /// a marker and kept whole in the HTML.
    @Test func reportsNeverCrashOrReadAsAFailedCheck() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
        let refused = try audit(["--generate", "--days", "1", "--orders-per-day", "5"], reports: directory + "/file")
        #expect(refused.status == 2, "\(refused.output)")
        #expect(refused.output.contains("\(directory)/file: is a file, not a folder"))

        let generated = try ReconProcess.run(["generate", "--out", directory + "/data", "--start", "2026-10-01", "--days", "2", "--orders-per-day", "20", "-q"])
        #expect(generated.status == 0)
        let merchants = directory + "/data/oltp/merchants.csv"
        var lines = try String(contentsOfFile: merchants, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var fields = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let longName = "Merchant " + String(repeating: "long ", count: 8_000) + "end"
        fields[1] = longName
        lines[1] = Substring(fields.joined(separator: ","))
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: merchants))
        // The monthly pack shows merchant names in both the workbook and the page.
        let result = try ReconProcess.run(["report", "--month", "2026-10", "--data", directory + "/data", "--reports", directory + "/reports",
                                           "--pipeline", Self.root + "/pipeline", "--expectations", Self.root + "/expectations/fund_recon.yml"])
        #expect(result.status == 0 || result.status == 1, "\(result.output)")
        let read = try python("""
            import sys, openpyxl
            wb = openpyxl.load_workbook(sys.argv[1])
            for row in wb["Merchants"].iter_rows(min_row=2, values_only=True):
                for value in row:
                    if isinstance(value, str) and value.startswith("Merchant long"):
                        print(len(value), value.endswith("the full text is in the HTML and JSON reports]"))
            """, [directory + "/reports/monthly-2026-10.xlsx"])
        #expect(read.output.contains("32767 True"), "\(read.output)")
        let html = try String(contentsOfFile: directory + "/reports/monthly-2026-10.html", encoding: .utf8)
        #expect(html.contains(longName))
    }

    /// A generated audit started with `extra`, once it is paused in `run_dbt_model` before its commit.
    func pausedInTheBuild(_ extra: [String]) throws -> ReconProcess {
        let process = try ReconProcess.start(
            ["audit", "--generate", "--days", "2", "--orders-per-day", "20", "--pipeline", Self.root + "/pipeline",
             "--expectations", Self.root + "/expectations/fund_recon.yml"] + extra,
            environment: ["RECON_INJECT_PAUSE": "run_dbt_model:60"])
        let deadline = Date().addingTimeInterval(120)
        while !process.output.contains("paused in run_dbt_model") {
            var status: Int32 = 0
            guard Date() < deadline, waitpid(process.pid, &status, WNOHANG) == 0 else {
                throw ReconProcess.Failure("never paused: \(process.output)")
            }
            usleep(100_000)
        }
        return process
    }

    /// SIGTERM in the middle of the build: exit 143, no "model failed", the run marked interrupted
    /// in the server's history, and no temporary file of the process left (generated data, captures).
    @Test func sigtermMidBuildExits143AndLeavesNothingBehind() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = try ServerUnderTest.target()
        let process = try pausedInTheBuild(["--db", target.conninfo, "--reports", directory + "/reports"])
        process.send(SIGTERM)
        #expect(try process.wait() == 143)
        let runID = try #require(process.output.split(separator: "\n").first { $0.hasPrefix("recon: run r") }
            .map { String($0.dropFirst("recon: run ".count).prefix(22)) })
        #expect(!process.output.contains("failed"), "\(process.output)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())
            .filter { name in
                TemporaryFiles.Kind.allCases.contains { name.hasPrefix("recon-\($0.rawValue)-\(process.pid)-") }
                    || (name.hasPrefix("recon-") && name.contains(runID))
            }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let status: String = try Connection(target).query("SELECT status FROM recon_meta.runs WHERE run_id = \(runID)").scalar()
        #expect(status == "interrupted")
    }

    /// SIGKILL cannot be caught: the embedded cluster's watchdog removes the cluster and the
    /// process's generated data once the process is gone.
    @Test func sigkillLeavesNoGeneratedDataOnceTheWatchdogRan() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try pausedInTheBuild(["--reports", directory + "/reports"])
        func ours() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { name in
                TemporaryFiles.Kind.allCases.contains { name.hasPrefix("recon-\($0.rawValue)-\(process.pid)-") }
            }
        }
        #expect(try ours().contains { $0.hasPrefix("recon-audit-data-") })
        process.send(SIGKILL)
        _ = try process.wait()
        for _ in 0..<100 where try !ours().isEmpty { usleep(100_000) }
        #expect(try ours().isEmpty)
    }

    /// A model whose session is lost (here it ends its own) is retried like every task, as the
    /// README promises; it used to fail after 1 attempt.
    @Test func aLostConnectionDuringTheBuildIsRetried() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pipeline = directory + "/pipeline"
        try FileManager.default.createDirectory(atPath: pipeline + "/models/dwd", withIntermediateDirectories: true)
        try Data("name: lost\nlayers: [ods, dwd, dws, ads]\nvars: {}\n".utf8).write(to: URL(fileURLWithPath: pipeline + "/project.yml"))
        try Data("select pg_terminate_backend(pg_backend_pid()) as ended\n".utf8)
            .write(to: URL(fileURLWithPath: pipeline + "/models/dwd/dwd_lost.sql"))
        let generated = try ReconProcess.run(["generate", "--out", directory + "/data", "--start", "2026-10-01", "--days", "1", "--orders-per-day", "5", "-q"])
        #expect(generated.status == 0)
        let result = try ReconProcess.run(["build", "--data", directory + "/data", "--pipeline", pipeline])
        #expect(result.status == 3, "\(result.output)")
        #expect(result.output.contains("run_dbt_model: attempt 1 failed"), "\(result.output)")
        #expect(result.output.contains("failed after 3 attempts"), "\(result.output)")
    }

    @Test func aDirectoryWhereAFileShouldBeExitsTwoNamingIt() throws {
        let directory = scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let generated = try ReconProcess.run(["generate", "--out", directory + "/data", "--start", "2026-10-01", "--days", "1", "--orders-per-day", "5", "-q"])
        #expect(generated.status == 0)
        try FileManager.default.removeItem(atPath: directory + "/data/oltp/refunds.csv")
        try FileManager.default.createDirectory(atPath: directory + "/data/oltp/refunds.csv", withIntermediateDirectories: true)
        let result = try audit(["--data", directory + "/data"], reports: directory + "/reports")
        #expect(result.status == 2, "\(result.output)")
        #expect(result.output.contains("oltp/refunds.csv: is a directory"))
    }
}

import ArgumentParser
import FundRecon
import Foundation
import Postgres

/// Options of commands that work on a database.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "PostgreSQL URL (postgres://user:pass@host:port/db). Default: RECON_DATABASE_URL, the PG* environment, "
                + "or an embedded throwaway cluster.", valueName: "url"))
    var db: String?

    @Option(help: ArgumentHelp("Instead of one embedded PostgreSQL, a throwaway Citus cluster: a coordinator and this many workers "
                               + "on Unix sockets (Citus from `make citus`).", valueName: "workers"))
    var embeddedCitus: Int?

    func validate() throws {
        if let embeddedCitus {
            guard embeddedCitus >= 1 else { throw ValidationError("--embedded-citus needs at least 1 worker") }
            guard db == nil else { throw ValidationError("give --db or --embedded-citus, not both") }
        }
    }

    var choice: DatabaseChoice { embeddedCitus.map { .embeddedCitus(workers: $0) } ?? DatabaseChoice.resolve(db: db) }

    /// The server a command that needs one works on; `why` says what for when there is none.
    func server(_ why: String) throws -> ConnectionTarget {
        guard case .server(let target) = choice else { throw ValidationError(why) }
        return target
    }
}

/// Options naming the pipeline and its vars.
struct PipelineOptions: ParsableArguments {
    @Option(help: "The pipeline folder (project.yml, models/, seeds/).")
    var pipeline: String = "pipeline"

    @Option(name: .customLong("var"), help: ArgumentHelp("Override a project var.", valueName: "key=value"))
    var vars: [String] = []

    func validate() throws {
        _ = try overrides()
    }

    func overrides() throws -> [String: String] {
        var result: [String: String] = [:]
        for assignment in vars {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--var expects key=value, got '\(assignment)'") }
            result[parts[0]] = parts[1]
        }
        return result
    }
}

/// Options of commands that evaluate checks and write reports.
struct CheckOptions: ParsableArguments {
    @Option(help: "The expectations file.")
    var expectations: String = "expectations/fund_recon.yml"

    @Option(help: "Where the reports are written.")
    var reports: String = "reports"

    @Option(help: "Exit 1 on failed error checks only, or on warnings too.")
    var failOn: Severity = .error

    @Option(help: "Only checks with one of these tags (comma-separated).")
    var tags: String?

    @Option(help: "Statement timeout per check, in seconds.")
    var checkTimeout: Int = 60

    @Option(help: ArgumentHelp("The instant freshness is judged against (ISO 8601); default: the data's latest order (recon run: the period's end).", valueName: "timestamp"))
    var asOf: String?

    @Option(help: ArgumentHelp("Reports to write (comma-separated).", valueName: "html,xlsx,junit,json,pdf"),
            transform: { try CommaSeparated<ReportFormat>.parse($0, naming: "report") })
    var format = CommaSeparated<ReportFormat>(ReportFormat.defaults)

    @Option(help: ArgumentHelp(
        "Run the checks as this existing role (same server and database; its password from ~/.pgpass, PGPASSFILE or "
            + "PGPASSWORD). Default: a role created for the run that may only read the run's tables.", valueName: "role"))
    var checkRole: String?

    @Option(help: ArgumentHelp("Run the checks on this connection string of a role that may only read.", valueName: "url"))
    var readerURL: String?

    @Option(help: ArgumentHelp("Waivers (a YAML file with a top-level waivers: list, EXPECTATIONS.md \"Waivers\"), beside the expectations file's own.", valueName: "file"))
    var waivers: String?

    func validate() throws {
        if checkRole != nil && readerURL != nil { throw ValidationError("give --check-role or --reader-url, not both") }
        guard checkTimeout > 0 else { throw ValidationError("--check-timeout must be positive") }
        if let asOf, TimestampParser.parse(asOf) == nil { throw ValidationError("--as-of '\(asOf)' is not an ISO 8601 timestamp with offset") }
    }

    var formats: Set<ReportFormat> { Set(format.values) }
    var tagSet: Set<String> { Set((tags ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
    var asOfDate: Date? { asOf.flatMap { TimestampParser.parse($0) } }

    /// A request with these options and the pipeline's.
    func request(pipeline: PipelineOptions?) throws -> RunRequest {
        var request = RunRequest(expectationsPath: expectations, pipelineDirectory: pipeline?.pipeline, reportsDirectory: reports)
        request.vars = try pipeline?.overrides() ?? [:]
        request.tags = tagSet
        request.checkTimeoutMilliseconds = checkTimeout * 1000
        request.formats = formats
        request.asOf = asOfDate
        if let checkRole { request.checkRole = .role(checkRole) }
        if let readerURL { request.checkRole = .target(.url(readerURL)) }
        request.waiversPath = waivers
        return request
    }
}

/// What `recon load` and `recon build` share: the dataset, whether its schemas stay, where the JSON report goes.
struct DatasetRunOptions: ParsableArguments {
    @Option(help: "The dataset directory (DATA_CONTRACT.md section 1).")
    var data: String

    @Flag(help: "Leave the run's schemas in place at the end (with --db).")
    var keepSchemas = false

    @Option(help: "Also write the command's report (per file or per model: rows and time) as JSON to this file.")
    var reportJSON: String?

    /// Runs `tasks` on the dataset in a run of its own; returns what they produced.
    func run(_ tasks: [TaskID], pipeline: PipelineOptions?, recordStatements: Bool = false, database: DatabaseOptions,
             global: GlobalOptions) throws -> RunResult {
        let logger = global.bootstrapLogging()
        var request = RunRequest(expectationsPath: "", pipelineDirectory: pipeline?.pipeline, reportsDirectory: "")
        request.vars = try pipeline?.overrides() ?? [:]
        request.formats = []
        request.tasks = tasks
        request.recordStatements = recordStatements
        return try handlingFailures {
            try Orchestrator.run(request, kind: .ephemeral(database: database.choice, source: .directory(data), keepSchemas: keepSchemas),
                                 interrupts: interrupts, logger: logger, progress: global.progress)
        }
    }
}

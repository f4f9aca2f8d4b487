import ArgumentParser
import FundRecon
import Foundation
import Logging
import Postgres

/// The `recon` command-line tool: parses arguments and calls the FundRecon library.
@main
struct Recon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recon",
        abstract: "FundRecon: test-first auditing of a fund-reconciliation warehouse on PostgreSQL.",
        discussion: """
            Exit codes: 0 all error-severity checks passed; 1 a check failed; 2 bad usage or a bad \
            expectations/pipeline file; 3 a runtime failure (database unreachable, a model or check \
            that could not run).
            """,
        version: "0.1.0",
        subcommands: [Audit.self, Run.self, Backfill.self, Check.self, Report.self, Golden.self, CoverageCommand.self, BenchReports.self, Generate.self, Load.self, Build.self, Dag.self, Doctor.self, GC.self, Hold.self]
    )

    /// Parses and runs, mapping bad usage to exit code 2 as DESIGN.md documents (not sysexits' 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                let message = fullMessage(for: error)
                FileHandle.standardError.write(Data("recon: \(message)\n".utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print only errors and the final summary.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print debug detail (statements, timings).")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
    }

    /// Sets up logging to standard error at the level the flags ask for; returns the tool's logger.
    func bootstrapLogging() -> Logger {
        let level: Logger.Level = quiet ? .warning : (verbose ? .debug : .notice)
        LoggingSystem.bootstrap { label in TerminalLogHandler(logLevel: level, label: label) }
        return Logger(label: "recon")
    }
}

/// Options of commands that work on a database.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "PostgreSQL URL (postgres://user:pass@host:port/db). Default: RECON_DATABASE_URL, the PG* environment, "
                + "or an embedded throwaway cluster.", valueName: "url"))
    var db: String?

    var choice: DatabaseChoice { DatabaseChoice.resolve(db: db) }

    /// Provides the database, opens a run on it, hands both to `body`, then closes the run and the
    /// database (an embedded cluster is deleted; a failed body leaves the cleanup to their deinit).
    func withRun<T>(
        keepSchemas: Bool, interrupts: Interrupts, logger: Logger, _ body: (ProvidedDatabase, WarehouseRun) throws -> T
    ) throws -> T {
        let provided = try ProvidedDatabase(choice, interrupts: interrupts, logger: logger)
        defer { provided.close() }
        if keepSchemas && provided.cluster != nil {
            logger.warning("--keep-schemas keeps nothing on the embedded cluster, which is deleted at exit: pass --db")
        }
        let run = try WarehouseRun(on: provided.target, keepSchemas: keepSchemas, interrupts: interrupts, logger: logger)
        let value = try body(provided, run)
        try run.close()
        return value
    }
}

/// Runs a command body, mapping every documented failure to its exit code with one clear line:
/// a bad expectations, pipeline or input file is 2; a model PostgreSQL refused, an unreachable
/// database or a runtime failure is 3.
func exitingOnFailure<T>(pipeline: String = "pipeline", _ body: () throws -> T) throws -> T {
    do {
        return try reportingFailures(body)
    } catch let error as ExpectationsError {
        printError("\(error)", fix: nil)
        throw ExitCode(2)
    } catch let error as PipelineError {
        printError("\(pipeline)/\(error)", fix: nil)
        throw ExitCode(2)
    } catch let error as InputError {
        printError("\(error)", fix: nil)
        throw ExitCode(2)
    } catch let error as ModelFailure {
        printError("\(pipeline)/\(error.file)\(error.line.map { ":\($0)" } ?? ""): model \(error.model) failed: "
            + "\(error.sqlState.map { "[\($0)] " } ?? "")\(error.message)", fix: nil)
        throw ExitCode(3)
    }
}

/// Runs a command body, turning runtime failures into one clear line and exit code 3.
func reportingFailures<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ClusterError {
        printError(error.cause, fix: error.fix)
        throw ExitCode(3)
    } catch let error as PostgresError {
        printError("database error: \(error)", fix: nil)
        throw ExitCode(3)
    }
}

func printError(_ message: String, fix: String?) {
    var text = "recon: error: \(message)\n"
    if let fix { text += "  fix: \(fix)\n" }
    FileHandle.standardError.write(Data(text.utf8))
}

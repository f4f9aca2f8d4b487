import ArgumentParser
import FundRecon
import Foundation
import Logging

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
        version: Evidence.toolVersion,
        subcommands: [
            Audit.self, Run.self, Backfill.self, Check.self, Diff.self, Report.self, Golden.self, CoverageCommand.self, BenchReports.self,
            Generate.self, Load.self, Build.self, Dag.self, Doctor.self, GC.self, Close.self, Reopen.self, History.self, Breaks.self, Server.self, Hold.self,
        ]
    )

    /// Parses and runs, mapping bad usage to exit code 2 as DESIGN.md documents (not sysexits' 64).
    /// An interrupted command ends with the interrupt's exit code, whatever its work did meanwhile.
    static func main() {
        interrupts.install()
        TemporaryFiles.sweep()
        do {
            if let unknown = unknownOption(Array(CommandLine.arguments.dropFirst())) {
                FileHandle.standardError.write(Data("recon: error: unknown option '\(unknown.option)' (see '\(unknown.command) --help')\n".utf8))
                Foundation.exit(2)
            }
            var command = try parseAsRoot()
            try command.run()
            interrupts.holdIfInterrupted()
        } catch {
            interrupts.holdIfInterrupted()
            if exitCode(for: error) == .validationFailure {
                let message = fullMessage(for: error)
                FileHandle.standardError.write(Data("recon: \(message)\n".utf8))
                Foundation.exit(2)
            }
            if exitCode(for: error) == .failure, !(error is ExitCode) {
                // An error no command mapped is a runtime failure: exit 1 means a check failed.
                printError("\(error)", fix: nil)
                Foundation.exit(3)
            }
            exit(withError: error)
        }
    }
}

extension Recon {
    /// An option the command does not have is named before anything else is judged: ArgumentParser
    /// validates a command's options (`give exactly one of --data DIR and --run ID`) before it
    /// reports an argument it did not use, which hid a mistyped option behind a wrong complaint.
    /// The options a command has are those its help lists. Nil when every option is known.
    static func unknownOption(_ arguments: [String]) -> (option: String, command: String)? {
        var command: ParsableCommand.Type = Recon.self
        var path = ["recon"]
        var rest = arguments[...]
        while let name = rest.first, let sub = command.configuration.subcommands.first(where: { $0._commandName == name }) {
            command = sub
            path.append(name)
            rest = rest.dropFirst()
        }
        guard command != Recon.self else { return nil }
        let help = Recon.helpMessage(for: command)
        let known = Set(help.matches(of: /--[a-z0-9][a-z0-9-]*/).map { String($0.output) }).union(["--help", "--version"])
        for argument in rest.prefix(while: { $0 != "--" }) where argument.hasPrefix("--") {
            let option = String(argument.prefix { $0 != "=" })
            if !known.contains(option) { return (option, path.joined(separator: " ")) }
        }
        return nil
    }
}

/// The process's handler of SIGINT and SIGTERM: runs register their cleanup with it.
let interrupts = Interrupts()

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

    /// Prints a run's progress lines (`recon: import_main_data: 62031 rows in 1204 ms`) unless `--quiet`.
    var progress: @Sendable (String) -> Void {
        let quiet = quiet
        // Once a signal is being handled, work failing because the cleanup ended it is not news.
        return { line in
            guard !quiet && !interrupts.wasReceived else { return }
            print("recon: \(line)")
            fflush(nil)  // a log or a pipe sees each line as it happens, not when a buffer fills
        }
    }
}

import ArgumentParser
import FundRecon
import Foundation

extension Recon {
    /// Opens a run and waits: lets tests (and curious users) see cleanup on SIGINT, SIGTERM and SIGKILL.
    struct Hold: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hold",
            abstract: "Open a run (database, lock, schemas), print its id, and wait. For testing cleanup.",
            shouldDisplay: false)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions

        @Option(help: "Seconds to wait before closing the run normally.")
        var seconds: Int = 60

        @Flag(help: "Leave the run's schemas in place at the end.")
        var keepSchemas = false

        func run() throws {
            let logger = global.bootstrapLogging()
            try handlingFailures {
                let provided = try ProvidedDatabase(database.choice, interrupts: interrupts, logger: logger)
                defer { provided.close() }
                let run = try RunSession(on: provided.target, keepSchemas: keepSchemas, interrupts: interrupts, logger: logger)
                print("run_id=\(run.runID)")
                print("database=\(provided.displayName)")
                if let cluster = provided.cluster { print("cluster_dir=\(cluster.directory)") }
                print("schemas=\(run.schemas.all.joined(separator: ","))")
                print("ready")
                fflush(nil)
                Thread.sleep(forTimeInterval: TimeInterval(seconds))
                try run.close()
            }
        }
    }
}

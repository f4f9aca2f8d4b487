import ArgumentParser
import FundRecon
import Foundation

extension Recon {
    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Drop the schemas of runs whose process died; live runs, and runs kept with --keep-schemas, are left alone.",
            discussion: """
                Only schemas a FundRecon run created are dropped: named rc_<runid>_<layer>, marked as a run's when \
                created, and owned by the connecting role. Check reader roles (recon_reader_*) of runs that are \
                gone are dropped too.
                """)

        @OptionGroup var global: GlobalOptions

        @Option(name: .long, help: ArgumentHelp("PostgreSQL URL (default: RECON_DATABASE_URL or PG*).", valueName: "url"))
        var db: String?

        @Flag(help: "Also drop the schemas of runs kept with --keep-schemas.")
        var kept = false

        func run() throws {
            let logger = global.bootstrapLogging()
            let choice = DatabaseChoice.resolve(db: db)
            guard case .server(let target) = choice else {
                throw ValidationError("gc needs a server: pass --db URL (an embedded cluster never outlives its run)")
            }
            let report = try handlingFailures {
                try GarbageCollector.collect(on: try ConnectionProblem.connect(target), logger: logger, includeKept: kept)
            }
            for (runID, schemas) in report.dropped.sorted(by: { $0.key < $1.key }) {
                print("dropped run \(runID): \(schemas.joined(separator: ", "))")
            }
            for runID in report.live { print("live run \(runID): left alone") }
            for runID in report.kept { print("kept run \(runID): left alone (--kept drops it)") }
            for schema in report.foreign { print("\(schema): not created by a run of this role, left alone") }
            for role in report.droppedRoles { print("dropped check reader role \(role) of a run that is gone") }
            if !global.quiet {
                print("\(report.dropped.count) dead run(s) collected, \(report.live.count) live and \(report.kept.count) kept run(s) left alone")
            }
        }
    }
}

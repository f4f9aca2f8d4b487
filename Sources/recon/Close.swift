import ArgumentParser
import FundRecon
import Foundation
import Postgres

/// What `recon close`, `reopen` and `history` share: the persistent warehouse they work on.
struct SignOffTarget: ParsableArguments {
    @Option(help: ArgumentHelp("PostgreSQL URL of the persistent warehouse (default: RECON_DATABASE_URL or PG*).", valueName: "url"))
    var db: String?

    @Option(help: ArgumentHelp("The warehouse's schemas are <prefix>_oltp ... <prefix>_ads.", valueName: "name"))
    var schemaPrefix: String

    @Option(help: ArgumentHelp("The month.", valueName: "YYYY-MM"))
    var month: String

    @Option(help: ArgumentHelp("Who signs (or reopens): a name finance knows.", valueName: "name"))
    var by: String

    func validate() throws {
        try flag("--schema-prefix") { try WarehousePrefix.validate(schemaPrefix) }
        guard month.range(of: "^[0-9]{4}-(0[1-9]|1[0-2])$", options: .regularExpression) != nil else {
            throw ValidationError("--month must be YYYY-MM")
        }
        guard !by.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--by needs a name") }
    }

    func connect() throws -> Connection {
        guard case .server(let target) = DatabaseChoice.resolve(db: db) else {
            throw ValidationError("sign-offs live in the persistent warehouse: pass --db URL or set RECON_DATABASE_URL")
        }
        return try ConnectionProblem.connect(target)
    }
}

extension Recon {
    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign off a month of a persistent warehouse, as its preparer or (someone else) its reviewer.",
            discussion: """
                Records the sign-off with a fingerprint of the month: every partition's digest, every ADS money total per \
                currency, the expectations and pipeline digests, the tool version and the input files' SHA-256. A later \
                `recon run` that changes the month withdraws its sign-offs and fails (exit 1) with the money that moved; \
                `recon reopen` withdraws them on purpose. The monthly pack shows both sign-offs.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: SignOffTarget

        @Option(help: "preparer (first) or reviewer (someone else, after the preparer).")
        var role: SignOffs.Role = .preparer

        @Option(help: "The pipeline folder (the ADS models whose money the fingerprint holds).")
        var pipeline: String = "pipeline"

        func run() throws {
            _ = global.bootstrapLogging()
            let record = try handlingFailures {
                try SignOffs.close(prefix: target.schemaPrefix, month: target.month, by: target.by, role: role,
                                   project: try PipelineProject.load(directory: pipeline), on: try target.connect())
            }
            print("\(target.month) signed off by \(record.by) as \(record.role.rawValue) at \(record.signedAt); fingerprint \(record.fingerprint)")
        }
    }

    struct Reopen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a month's sign-offs on purpose, with the reason (the month may then change and be signed again).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: SignOffTarget

        @Option(help: "Why the month is reopened.")
        var reason: String

        func run() throws {
            _ = global.bootstrapLogging()
            let count = try handlingFailures {
                try SignOffs.reopen(prefix: target.schemaPrefix, month: target.month, by: target.by, reason: reason, on: try target.connect())
            }
            print(count == 0 ? "\(target.month) had no active sign-off" : "\(target.month) reopened: \(count) sign-off(s) withdrawn")
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The run history of recon_meta.", subcommands: [HistoryVerify.self])
    }

    struct HistoryVerify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Prove the run history's hash chain: exit 0 when every record and link holds, 1 naming the first that does not.")

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("PostgreSQL URL of the warehouse (default: RECON_DATABASE_URL or PG*).", valueName: "url"))
        var db: String?

        func run() throws {
            _ = global.bootstrapLogging()
            guard case .server(let target) = DatabaseChoice.resolve(db: db) else {
                throw ValidationError("the history lives in a server: pass --db URL or set RECON_DATABASE_URL")
            }
            let report = try handlingFailures { try RunHistory.verifyChain(on: try ConnectionProblem.connect(target)) }
            if let broken = report.broken {
                print("history verify: FAILED at run \(broken.runID): \(broken.reason) (\(report.records) record(s) read)")
                throw ExitCode(1)
            }
            print("history verify: \(report.records) record(s), every hash and link holds")
        }
    }
}

extension SignOffs.Role: ExpressibleByArgument {}

extension Recon {
    struct Breaks: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a persistent warehouse's break register, or annotate one break (owner, comment, waived).",
            discussion: """
                Every `recon run` brings the register (recon_meta.break_register) up to date with the warehouse's breaks \
                model: new breaks are open, breaks no longer shown are resolved on the run's last day. With --key, sets \
                the owner, the comment or the status (open or waived) of the break of --type and --key.
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("PostgreSQL URL of the persistent warehouse (default: RECON_DATABASE_URL or PG*).", valueName: "url"))
        var db: String?

        @Option(help: ArgumentHelp("The warehouse's schemas are <prefix>_oltp ... <prefix>_ads.", valueName: "name"))
        var schemaPrefix: String

        @Option(help: "Only breaks of this status (listing), or the status to set (annotating: open or waived).")
        var status: BreakRegister.Status?

        @Option(name: .customLong("type"), help: "The break type of the break to annotate.")
        var breakType: String?

        @Option(help: "The entity type of the break to annotate (when its key is not enough).")
        var entityType: String?

        @Option(help: "The entity key of the break to annotate.")
        var key: String?

        @Option(help: "Who owns the break.")
        var owner: String?

        @Option(help: "A comment on the break.")
        var comment: String?

        func validate() throws {
            try flag("--schema-prefix") { try WarehousePrefix.validate(schemaPrefix) }
            if key != nil || owner != nil || comment != nil || breakType != nil {
                guard key != nil, breakType != nil else { throw ValidationError("annotating a break needs --type and --key") }
                guard owner != nil || comment != nil || status != nil else {
                    throw ValidationError("annotate with --owner, --comment or --status")
                }
            }
        }

        func run() throws {
            _ = global.bootstrapLogging()
            guard case .server(let target) = DatabaseChoice.resolve(db: db) else {
                throw ValidationError("the register lives in the persistent warehouse: pass --db URL or set RECON_DATABASE_URL")
            }
            let connection = try handlingFailures { try ConnectionProblem.connect(target) }
            if let key, let breakType {
                _ = try handlingFailures {
                    try BreakRegister.annotate(prefix: schemaPrefix, breakType: breakType, entityType: entityType, entityKey: key,
                                               owner: owner, comment: comment, status: status, on: connection)
                }
                print("\(breakType) \(key) annotated")
                return
            }
            let entries = try handlingFailures { try BreakRegister.list(prefix: schemaPrefix, status: status, on: connection) }
            print("status    age  business day  break type                        entity                          currency      amount  owner")
            for entry in entries {
                print(entry.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                    + String(entry.ageDays.map(String.init) ?? "").leftPadded(5) + "  "
                    + (entry.bizDate ?? "").padding(toLength: 12, withPad: " ", startingAt: 0) + "  "
                    + entry.breakType.padding(toLength: 32, withPad: " ", startingAt: 0) + "  "
                    + "\(entry.entityType) \(entry.entityKey)".padding(toLength: 30, withPad: " ", startingAt: 0) + "  "
                    + (entry.currency ?? "").padding(toLength: 8, withPad: " ", startingAt: 0)
                    + (entry.amount ?? "").leftPadded(10) + "  " + (entry.owner ?? ""))
            }
            print("\(entries.count) break(s)")
        }
    }
}

extension BreakRegister.Status: ExpressibleByArgument {}

import ArgumentParser
import FundRecon
import Foundation

/// Where the local server lives.
struct ServerOptions: ParsableArguments {
    @Option(help: "The server's folder (data, socket, log, password).")
    var dir: String = ".recon/pg"
}

extension Recon {
    struct Server: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A local PostgreSQL server that outlives the command: a persistent warehouse for recon run, BI and schedulers.",
            discussion: """
                Listens on a Unix socket in <dir>/run and on 127.0.0.1:<port>. The superuser postgres gets a generated \
                password, kept in <dir>/password and <dir>/pgpass (readable by you only) and never printed: point libpq at \
                it with PGPASSFILE=<dir>/pgpass. Data stays in <dir>/data across stop and start.
                """,
            subcommands: [ServerStart.self, ServerStop.self, ServerStatus.self])
    }

    struct ServerStart: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Create (first time) and start the server.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: ServerOptions
        @Option(help: "The TCP port on 127.0.0.1 (chosen when the server is created).") var port: Int?

        func run() throws {
            _ = global.bootstrapLogging()
            let server = LocalServer(directory: options.dir, port: port)
            let started = try handlingFailures { try server.start() }
            print(started ? "server started: \(server.shownURL) (data in \(options.dir)/data)" : "server already running: \(server.shownURL)")
            print("use it: PGPASSFILE=\(server.passFile) recon run --db \(server.url) --schema-prefix wh ...")
        }
    }

    struct ServerStop: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop the server; its data stays.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: ServerOptions

        func run() throws {
            _ = global.bootstrapLogging()
            let stopped = try handlingFailures { try LocalServer(directory: options.dir).stop() }
            print(stopped ? "server stopped (data kept in \(options.dir)/data)" : "server was not running")
        }
    }

    struct ServerStatus: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Whether the server runs, and where.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: ServerOptions

        func run() throws {
            _ = global.bootstrapLogging()
            let server = LocalServer(directory: options.dir)
            let running = try handlingFailures { try server.isRunning() }
            print(running ? "running: \(server.shownURL), socket in \(server.directory)/run" : "not running (\(options.dir))")
            if !running { throw ExitCode(3) }
        }
    }
}

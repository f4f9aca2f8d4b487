import Foundation
import Postgres

/// A PostgreSQL server for people that outlives the process (`recon server start|stop|status`):
/// a warehouse that `recon run`, BI tools and schedulers share without a Docker engine. It listens
/// on a Unix socket in `<dir>/run` and on 127.0.0.1 at a chosen port; the superuser `postgres` has
/// a generated password (SCRAM), kept in `<dir>/password` and `<dir>/pgpass`, readable by the
/// user who started it only, and never printed.
public struct LocalServer: Sendable {
    public let directory: String
    public let port: Int

    /// The server in `directory` (made absolute); its port is the one it was started with.
    public init(directory: String, port: Int? = nil) {
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        let stored = (try? String(contentsOfFile: self.directory + "/port", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        self.port = port ?? stored ?? 5433
    }

    var data: String { directory + "/data" }
    var run: String { directory + "/run" }
    public var passwordFile: String { directory + "/password" }
    public var passFile: String { directory + "/pgpass" }

    /// The URL without the password (libpq finds it in `pgpass` through PGPASSFILE).
    public var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }
    /// The URL as shown: the password masked.
    public var shownURL: String { "postgresql://postgres:***@127.0.0.1:\(port)/postgres" }

    /// Whether the server is running (pg_ctl status).
    public func isRunning() throws -> Bool {
        guard FileManager.default.fileExists(atPath: data + "/PG_VERSION") else { return false }
        let binaries = try ServerBinaries.locate()
        return try ProcessRunner.run(binaries.path("pg_ctl"), ["-D", data, "status"],
                                     as: try EmbeddedCluster.serverUserIfRoot(environment: ProcessInfo.processInfo.environment)).status == 0
    }

    /// Creates the server on first use, then starts it; returns false when it was running already.
    @discardableResult
    public func start() throws -> Bool {
        if try isRunning() { return false }
        let binaries = try ServerBinaries.locate()
        let user = try EmbeddedCluster.serverUserIfRoot(environment: ProcessInfo.processInfo.environment)
        let manager = FileManager.default
        guard (1024...65535).contains(port) else { throw BadValue("--port \(port) is not a port from 1024 to 65535") }
        guard (run + "/.s.PGSQL.\(port)").utf8.count < 100 else {
            throw BadValue("--dir \(directory) is too long for a Unix socket path: choose a shorter folder")
        }
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if !manager.fileExists(atPath: data + "/PG_VERSION") {
            let password = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 36) }.joined()
            try write(password + "\n", to: passwordFile)
            try? manager.removeItem(atPath: data)
            for folder in [data, run] {
                try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try EmbeddedCluster.giveOwnership(of: folder, to: user)
            }
            chmod(data, 0o700)
            // initdb reads the password from a file of the server's user, removed at once.
            let pwfile = run + "/pwfile"
            try write(password + "\n", to: pwfile)
            try EmbeddedCluster.giveOwnership(of: pwfile, to: user)
            defer { try? manager.removeItem(atPath: pwfile) }
            let initdb = try ProcessRunner.run(binaries.path("initdb"), [
                "-D", data, "-U", "postgres", "-E", "UTF8", "--locale=C", "-A", "scram-sha-256", "--pwfile", pwfile, "--no-instructions",
            ], as: user)
            guard initdb.status == 0 else {
                throw RuntimeFailure(cause: "initdb failed in \(data): \(EmbeddedCluster.lastLines(initdb.output))",
                                     fix: "check that \(user ?? "the current user") may write to \(directory)")
            }
        }
        // The port it starts on (a folder started again with another --port moves to it) and the
        // password file libpq reads for it.
        let password = try String(contentsOfFile: passwordFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try write("127.0.0.1:\(port):*:postgres:\(password)\n\(run):\(port):*:postgres:\(password)\n", to: passFile)
        try write("\(port)\n", to: directory + "/port")
        let started = try ProcessRunner.run(binaries.path("pg_ctl"), [
            "-D", data, "-l", run + "/server.log", "-w", "-t", "60",
            "-o", "-p \(port) -k \(run) -c listen_addresses=127.0.0.1 -c unix_socket_permissions=0770", "start",
        ], as: user)
        guard started.status == 0 else {
            let log = (try? String(contentsOfFile: run + "/server.log", encoding: .utf8)) ?? started.output
            throw RuntimeFailure(cause: "the server in \(directory) did not start: \(EmbeddedCluster.lastLines(log))",
                                 fix: "is port \(port) taken? `recon server start --port N` on a new folder, or free it")
        }
        return true
    }

    /// Stops the server (its data stays); returns false when it was not running.
    @discardableResult
    public func stop() throws -> Bool {
        guard try isRunning() else { return false }
        let binaries = try ServerBinaries.locate()
        let stopped = try ProcessRunner.run(binaries.path("pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"],
                                            as: try EmbeddedCluster.serverUserIfRoot(environment: ProcessInfo.processInfo.environment))
        guard stopped.status == 0 else {
            throw RuntimeFailure(cause: "pg_ctl stop failed: \(EmbeddedCluster.lastLines(stopped.output))", fix: "see \(run)/server.log")
        }
        return true
    }

    /// A file only its owner may read.
    private func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw RuntimeFailure(cause: "cannot write \(path)", fix: "choose a folder you may write to")
        }
        chmod(path, 0o600)
    }
}

extension LocalServer {
    /// What `recon doctor` says of the local server in this folder: running (and answering with its
    /// password file), stopped, or absent. Nil when the folder holds no server and was not asked for.
    package func finding(asked: Bool) -> DoctorFinding? {
        let subject = "local server \(directory)"
        guard FileManager.default.fileExists(atPath: data + "/PG_VERSION") else {
            return asked ? DoctorFinding(ok: false, subject: subject, detail: "no server in this folder",
                                         fix: "recon server start --dir \(directory)") : nil
        }
        let running: Bool
        do {
            running = try isRunning()
        } catch {
            // Without the server programs doctor has said so already; the folder is worth a line only when asked for.
            return asked ? DoctorFinding(ok: false, subject: subject, detail: "cannot tell whether it runs: \(error)",
                                         fix: "see the PostgreSQL server programs above") : nil
        }
        guard running else {
            return DoctorFinding(ok: true, subject: subject, detail: "stopped (data kept); port \(port)", fix: nil)
        }
        do {
            let password = try String(contentsOfFile: passwordFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            var components = URLComponents(string: url)!
            components.password = password
            let version: String = try Connection(.url(components.string!), applicationName: "recon-doctor")
                .query("SELECT current_setting('server_version')").scalar()
            return DoctorFinding(ok: true, subject: subject,
                                 detail: "running, PostgreSQL \(version) at \(shownURL) and socket \(run); use PGPASSFILE=\(passFile)")
        } catch {
            return DoctorFinding(ok: false, subject: subject, detail: "running but not answering: \(error)",
                                 fix: "see \(run)/server.log; recon server stop --dir \(directory) && recon server start --dir \(directory)")
        }
    }
}


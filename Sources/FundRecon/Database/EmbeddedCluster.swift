import Foundation
import Logging
import Postgres

/// A private, throwaway PostgreSQL cluster: `initdb` into a fresh temporary directory, a Unix
/// socket only, fsync off. Stopped and deleted by `stop()`, on deinit, by the interrupt handler,
/// and, should the process be killed outright, by a small watchdog that outlives it.
public final class EmbeddedCluster {
    /// How to make the cluster.
    public struct Options: Sendable {
        /// When set, the superuser `postgres` gets this password and connections must give it.
        public var superuserPassword: String?
        /// Libraries the server loads at start (`shared_preload_libraries`), for example `citus`.
        public var preloadLibraries: [String]
        /// Connections the server accepts (a Citus node takes many: the coordinator's executor
        /// opens several per worker and session, repartitioned joins more between workers).
        public var maxConnections: Int

        /// Default options: trust authentication over the private socket.
        public init(superuserPassword: String? = nil, preloadLibraries: [String] = [], maxConnections: Int = 60) {
            self.superuserPassword = superuserPassword
            self.preloadLibraries = preloadLibraries
            self.maxConnections = maxConnections
        }
    }

    /// The temporary directory holding the data directory, the socket and the server log.
    public let directory: String
    /// The server programs used.
    public let binaries: ServerBinaries
    /// The socket's port number (part of the socket's file name; nothing listens on TCP).
    public let port = 5432
    /// The system user the server runs as (nil when it runs as the current user).
    public let serverUser: String?
    private let watchdog: pid_t?
    private var stopped = false
    private let logger: Logger

    /// Connection target for the superuser database `postgres`.
    public var target: ConnectionTarget {
        .keywords("host=\(directory) port=\(port) user=postgres dbname=postgres")
    }

    /// Connection target for another database of the cluster.
    public func target(database: String, user: String = "postgres", password: String? = nil) -> ConnectionTarget {
        var text = "host=\(directory) port=\(port) user=\(user) dbname=\(database)"
        if let password { text += " password='\(password)'" }
        return .keywords(text)
    }

    /// Creates and starts a cluster. Throws a `RuntimeFailure` naming the cause and the fix.
    public static func start(
        options: Options = Options(), environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "recon.cluster")
    ) throws -> EmbeddedCluster {
        let binaries = try ServerBinaries.locate(environment: environment)
        let serverUser = try serverUserIfRoot(environment: environment)
        let directory = try makeDirectory(environment: environment, owner: serverUser)
        do {
            return try EmbeddedCluster(
                directory: directory, binaries: binaries, serverUser: serverUser, options: options, logger: logger)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    private init(
        directory: String, binaries: ServerBinaries, serverUser: String?, options: Options, logger: Logger
    ) throws {
        self.directory = directory
        self.binaries = binaries
        self.serverUser = serverUser
        self.logger = logger
        let clock = ContinuousClock()
        let started = clock.now

        var initArguments = [
            "-D", directory + "/data", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        ]
        if let password = options.superuserPassword {
            let passwordFile = directory + "/pwfile"
            try Data(password.utf8).write(to: URL(fileURLWithPath: passwordFile))
            try EmbeddedCluster.giveOwnership(of: passwordFile, to: serverUser)
            initArguments += ["-A", "scram-sha-256", "--pwfile", passwordFile]
        } else {
            initArguments += ["-A", "trust"]
        }
        let initdb = try ProcessRunner.run(binaries.path("initdb"), initArguments, as: serverUser)
        guard initdb.status == 0 else {
            throw RuntimeFailure(
                cause: "initdb failed in \(directory): \(EmbeddedCluster.lastLines(initdb.output))",
                fix: "check that \(serverUser ?? "the current user") can write to TMPDIR, or use a server of your own")
        }
        // The watchdog starts before the server, so no moment exists where a killed process leaks it.
        watchdog = EmbeddedCluster.startWatchdog(directory: directory, binaries: binaries, serverUser: serverUser)
        let serverOptions = ([
            "-p \(port)", "-k \(directory)", "-c listen_addresses=''", "-c fsync=off", "-c synchronous_commit=off",
            "-c full_page_writes=off", "-c max_connections=\(options.maxConnections)", "-c unix_socket_permissions=0777",
        ] + (options.preloadLibraries.isEmpty ? [] : ["-c shared_preload_libraries=\(options.preloadLibraries.joined(separator: ","))"]))
        .joined(separator: " ")
        let start = try ProcessRunner.run(
            binaries.path("pg_ctl"),
            ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "-o", serverOptions, "start"],
            as: serverUser)
        guard start.status == 0 else {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? start.output
            stopped = true
            EmbeddedCluster.teardown(directory: directory, binaries: binaries, serverUser: serverUser)
            watchdog.map(ProcessRunner.stopDetached)
            throw RuntimeFailure(
                cause: "the embedded PostgreSQL did not start: \(EmbeddedCluster.lastLines(log))",
                fix: "run `recon doctor`, or use a server of your own")
        }
        let elapsed = clock.now - started
        logger.info("embedded PostgreSQL started in \(directory) (\(binaries.version), \(elapsed))")
    }

    deinit {
        stop()
    }

    /// One cluster for the whole process, started on first use and never stopped by the process:
    /// its watchdog removes it when the process ends. For many short runs (tests, coverage).
    public static func shared() throws -> ConnectionTarget {
        try sharedCluster.get().target
    }

    // Immutable after its one-time initialisation; the cluster itself is only read from here on.
    nonisolated(unsafe) private static let sharedCluster: Result<EmbeddedCluster, Error> = Result {
        try EmbeddedCluster.start()
    }

    /// Stops the server and deletes the directory. Safe to call more than once.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        EmbeddedCluster.teardown(directory: directory, binaries: binaries, serverUser: serverUser)
        watchdog.map(ProcessRunner.stopDetached)
        logger.debug("embedded PostgreSQL stopped and \(directory) removed")
    }

    /// The same teardown as `stop()`, as a value an interrupt handler can run from another thread.
    public var teardownAction: @Sendable () -> Void {
        let directory = directory
        let binaries = binaries
        let serverUser = serverUser
        return { EmbeddedCluster.teardown(directory: directory, binaries: binaries, serverUser: serverUser) }
    }

    static func teardown(directory: String, binaries: ServerBinaries, serverUser: String?) {
        if FileManager.default.fileExists(atPath: directory + "/data/postmaster.pid") {
            _ = try? ProcessRunner.run(
                binaries.path("pg_ctl"), ["-D", directory + "/data", "-m", "immediate", "-w", "stop"], as: serverUser)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A detached shell that waits for this process to end, then stops the server and deletes the
    /// directory. It has its own session, so a Ctrl-C on the terminal does not reach it.
    private static func startWatchdog(directory: String, binaries: ServerBinaries, serverUser: String?) -> pid_t? {
        let runAs = serverUser.map { "\(ProcessRunner.runuser) -u \($0) -- " } ?? ""
        let script = """
            trap '' INT TERM HUP
            while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done
            rm -rf \(TemporaryFiles.pattern)
            [ -d '\(directory)' ] || exit 0
            \(runAs)'\(binaries.path("pg_ctl"))' -D '\(directory)/data' -m immediate -w stop >/dev/null 2>&1
            rm -rf '\(directory)'
            """
        return try? ProcessRunner.startDetached(script: script)
    }

    static func serverUserIfRoot(environment: [String: String]) throws -> String? {
        guard geteuid() == 0 else { return nil }
        let user = environment["RECON_PG_USER"] ?? "postgres"
        guard getpwnam(user) != nil else {
            throw RuntimeFailure(
                cause: "running as root, and PostgreSQL refuses to run as root, but there is no system user '\(user)'",
                fix: "`apt-get install postgresql` creates the postgres user, or set RECON_PG_USER to another user")
        }
        return user
    }

    private static func makeDirectory(environment: [String: String], owner: String?) throws -> String {
        var base = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        // A Unix socket path must fit in 107 bytes: directory + "/.s.PGSQL.5432".
        guard base.utf8.count + 30 < 100 else {
            throw RuntimeFailure(
                cause: "TMPDIR (\(base)) is too long for a Unix socket path", fix: "set TMPDIR to a short path such as /tmp")
        }
        var template = Array((base + "/recon-pg-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { _ in true } ?? false
        }
        guard made else {
            let reason = String(cString: strerror(errno))
            throw RuntimeFailure(
                cause: "cannot create a temporary directory in \(base): \(reason)",
                fix: "set TMPDIR to a writable directory")
        }
        let directory = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let owner {
            do {
                try giveOwnership(of: directory, to: owner)
                let probe = try ProcessRunner.run("/usr/bin/test", ["-w", directory, "-a", "-x", directory], as: owner)
                guard probe.status == 0 else {
                    throw RuntimeFailure(
                        cause: "the \(owner) user cannot reach \(directory) (a parent directory is closed to it)",
                        fix: "set TMPDIR to a directory every user can reach, such as /tmp")
                }
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
        }
        return directory
    }

    static func giveOwnership(of path: String, to user: String?) throws {
        guard let user, let entry = getpwnam(user) else { return }
        guard chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw RuntimeFailure(
                cause: "cannot give \(path) to the \(user) user: \(String(cString: strerror(errno)))",
                fix: "set TMPDIR to a local directory such as /tmp")
        }
    }

    static func lastLines(_ text: String) -> String {
        text.split(separator: "\n").suffix(3).joined(separator: " | ")
    }
}

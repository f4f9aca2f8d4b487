import Foundation

/// Runs helper programs (initdb, pg_ctl) with `posix_spawn` and `waitpid`.
///
/// Not Foundation's `Process`: on Linux it was seen to miss the exit of a child whose own child
/// (the daemonized postgres) lives on, and `waitUntilExit` then never returned.
enum ProcessRunner {
    /// What a finished program left behind.
    struct Outcome {
        var status: Int32
        var output: String
    }

    /// Runs `executable` with `arguments` to completion; when `user` is given, through
    /// `runuser -u user --`. Standard output and error are captured together.
    static func run(_ executable: String, _ arguments: [String], as user: String? = nil,
                    environment: [String: String]? = nil) throws -> Outcome {
        // A file, not a pipe: `pg_ctl start` leaves a daemon behind that could hold a pipe open.
        let capturePath = TemporaryFiles.path(.capture)
        defer { TemporaryFiles.remove(capturePath) }
        let pid = try spawn(command(executable, arguments, as: user), outputPath: capturePath, newSession: false, environment: environment)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw SpawnError(message: "waitpid failed: \(String(cString: strerror(errno)))") }
        }
        let output = FileManager.default.contents(atPath: capturePath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: exitStatus, output: output)
    }

    /// Starts `/bin/sh -c script` in a session of its own (so a terminal's Ctrl-C does not reach it)
    /// and returns its pid without waiting.
    static func startDetached(script: String) throws -> pid_t {
        try spawn(["/bin/sh", "-c", script], outputPath: "/dev/null", newSession: true)
    }

    /// Ends a detached process started by `startDetached` and reaps it.
    static func stopDetached(_ pid: pid_t) {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    private static func command(_ executable: String, _ arguments: [String], as user: String?) -> [String] {
        guard let user else { return [executable] + arguments }
        return [runuser, "-u", user, "--", executable] + arguments
    }

    /// Starts `argv` with stdin from /dev/null and stdout+stderr into `outputPath`; returns its pid.
    static func spawn(
        _ argv: [String], outputPath: String, newSession: Bool, environment: [String: String]? = nil
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with default signal handling even if this process ignores SIGINT/SIGTERM.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // ... and with no signal blocked: the interrupt handling blocks SIGINT/SIGTERM in this process's
        // threads, and a child inheriting that mask could not be stopped (a web server, Chromium).
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK)
        if newSession { flags |= posixSpawnSetSID }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let environment: [UnsafeMutablePointer<CChar>?] =
            (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            arguments.forEach { free($0) }
            environment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, arguments, environment)
        guard result == 0 else {
            throw SpawnError(message: "cannot start \(argv[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// glibc's POSIX_SPAWN_SETSID (0x80), hidden from Swift behind _GNU_SOURCE.
    private static let posixSpawnSetSID: Int32 = 0x80

    static let runuser: String = {
        for path in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"] where access(path, X_OK) == 0 {
            return path
        }
        return "/usr/sbin/runuser"
    }()
}

/// A helper program could not be started.
struct SpawnError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

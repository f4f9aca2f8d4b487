import Foundation
import Postgres
import Testing

@testable import FundRecon

/// The built `recon` binary, run as a child process with its output in a file, which goes with
/// the value (a test that kills a process and reads what it printed leaves nothing in /tmp).
final class ReconProcess: Sendable {
    let pid: pid_t
    let outputPath: String

    init(pid: pid_t, outputPath: String) {
        self.pid = pid
        self.outputPath = outputPath
    }

    deinit { try? FileManager.default.removeItem(atPath: outputPath) }

    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("recon").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/recon").path
    }

    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> ReconProcess {
        let outputPath = NSTemporaryDirectory() + "recon-e2e-\(UUID().uuidString).out"
        var merged = ProcessInfo.processInfo.environment
        for key in ["PGHOST", "PGDATABASE", "RECON_DATABASE_URL"] { merged[key] = nil }
        merged.merge(environment) { $1 }
        let pid = try ProcessRunner.spawn([binary] + arguments, outputPath: outputPath, newSession: false, environment: merged)
        return ReconProcess(pid: pid, outputPath: outputPath)
    }

    /// Runs to completion; returns the exit status and everything printed.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = try start(arguments, environment: environment)
        let status = try process.wait()
        return (status, process.output)
    }

    var output: String {
        FileManager.default.contents(atPath: outputPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The value of a `key=value` line the process printed.
    func value(_ key: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// Waits until the process prints `ready`, failing after `seconds`.
    func waitUntilReady(seconds: Double = 60) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !output.contains("\nready") {
            guard Date() < deadline else { throw Failure("not ready after \(seconds) s: \(output)") }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { throw Failure("exited early: \(output)") }
            usleep(50_000)
        }
    }

    func send(_ signalNumber: Int32) { kill(pid, signalNumber) }

    /// Waits for the exit; returns the exit code, or 128 + signal when killed.
    func wait(seconds: Double = 120) throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard Date() < deadline else {
                kill(pid, SIGKILL)
                throw Failure("still running after \(seconds) s: \(output)")
            }
            usleep(50_000)
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// A cluster standing for a user's `--db` server: the process's shared embedded cluster.
enum ServerUnderTest {
    static func target() throws -> ConnectionTarget { try EmbeddedCluster.shared() }

    static func schemaCount(_ names: [String]) throws -> Int {
        let connection = try Connection(target())
        return try connection.query("SELECT count(*) FROM pg_namespace WHERE nspname = ANY(string_to_array(\(names.joined(separator: ",")), ','))").scalar()
    }
}

import Foundation

/// Where PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`) live, and their version.
public struct ServerBinaries: Sendable {
    /// The directory holding the programs.
    public let directory: String
    /// `postgres --version` output, such as `postgres (PostgreSQL) 15.18`.
    public let version: String

    /// The path of one program.
    public func path(_ program: String) -> String { directory + "/" + program }

    /// Finds the server programs: `RECON_PG_BINDIR` when set, else `pg_config --bindir`, else the
    /// newest `/usr/lib/postgresql/*/bin`.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> ServerBinaries
    {
        var candidates: [String] = []
        if let explicit = environment["RECON_PG_BINDIR"], !explicit.isEmpty {
            candidates = [explicit]
        } else {
            if let pgConfig = findInPath("pg_config", environment: environment),
                let outcome = try? ProcessRunner.run(pgConfig, ["--bindir"]), outcome.status == 0
            {
                candidates.append(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let root = "/usr/lib/postgresql"
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            let sorted = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            candidates += sorted.map { "\(root)/\($0)/bin" }
        }
        for directory in candidates {
            let required = ["initdb", "pg_ctl", "postgres"]
            guard required.allSatisfy({ FileManager.default.isExecutableFile(atPath: directory + "/" + $0) }) else {
                continue
            }
            let outcome = try? ProcessRunner.run(directory + "/postgres", ["--version"])
            let version = outcome?.output.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown version"
            return ServerBinaries(directory: directory, version: version)
        }
        let looked = candidates.isEmpty ? "pg_config and /usr/lib/postgresql/*/bin" : candidates.joined(separator: ", ")
        throw RuntimeFailure(
            cause: "PostgreSQL server programs (initdb, pg_ctl, postgres) not found in \(looked)",
            fix: "install them with `apt-get install postgresql` (or set RECON_PG_BINDIR), or use a server of your own")
    }

    static func findInPath(_ program: String, environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

import Foundation

/// What a run was made of, for whoever must trust its result later (issue "evidence"): the
/// tool, who ran it and where, the instant it judged freshness at, the expectations and pipeline
/// by digest and commit, the tolerances in force, every input file with its SHA-256 and counts,
/// and the files of the dataset that matched no contract name.
public struct Evidence: Sendable, Codable, Equatable {
    public var toolVersion: String
    public var user: String
    public var host: String
    /// The instant freshness was judged at (ISO 8601), when the run had checks.
    public var asOf: String?
    public var expectationsSHA256: String?
    public var pipelineCommit: String?
    /// Checks with a tolerance other than 0: id -> tolerance.
    public var tolerances: [String: String] = [:]
    /// The money above which a break is material (`break_materiality`), as finance reads it.
    public var breakMateriality: String?
    /// Every file the run read, in load order.
    public var inputs: [FileLoad] = []
    /// Files of the dataset whose name matches no contract name: not loaded.
    public var ignored: [String] = []

    enum CodingKeys: String, CodingKey {
        case user, host, tolerances, inputs, ignored
        case toolVersion = "tool_version"
        case asOf = "as_of"
        case expectationsSHA256 = "expectations_sha256"
        case pipelineCommit = "pipeline_commit"
        case breakMateriality = "break_materiality"
    }

    /// The tool's version (`recon --version`).
    public static let toolVersion = "0.1.0"

    /// The user running the process and the machine's name.
    static var runner: (user: String, host: String) {
        let account = getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
        let user = account ?? ProcessInfo.processInfo.environment["USER"] ?? String(getuid())
        return (user, ProcessInfo.processInfo.hostName)
    }
}

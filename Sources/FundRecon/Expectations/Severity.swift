/// `error` checks gate the run; `warn` checks are reported only.
public enum Severity: String, Sendable, Codable, CaseIterable {
    case error, warn
}

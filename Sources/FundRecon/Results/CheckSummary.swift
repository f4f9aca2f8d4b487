/// Counts of checks by status.
public struct CheckSummary: Sendable, Codable, Equatable {
    public var checks = 0
    public var pass = 0
    public var warn = 0
    public var fail = 0
    public var error = 0
    public var waived = 0

    public init(_ results: [CheckResult]) {
        checks = results.count
        for result in results {
            switch result.status {
            case .pass: pass += 1
            case .warn: warn += 1
            case .fail: fail += 1
            case .error: error += 1
            case .waived: waived += 1
            }
        }
    }
}

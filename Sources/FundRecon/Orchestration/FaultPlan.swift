import Foundation

/// Faults to inject, for tests of retries and crash safety: `RECON_INJECT_FAULT=task:N` fails the
/// task's first N attempts with a lost connection; `RECON_INJECT_PAUSE=task:SECONDS` pauses it
/// before its commit.
public struct FaultPlan: Sendable {
    public var failures: [TaskID: Int] = [:]
    public var pause: [TaskID: Double] = [:]

    public init(failures: [TaskID: Int] = [:], pause: [TaskID: Double] = [:]) {
        self.failures = failures
        self.pause = pause
    }

    /// The plan the environment asks for (empty when neither variable is set; unknown tasks are ignored).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> FaultPlan {
        func pairs(_ text: String?) -> [(TaskID, String)] {
            (text ?? "").split(separator: ",").compactMap { item in
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let task = TaskID(rawValue: parts[0]) else { return nil }
                return (task, parts[1])
            }
        }
        var plan = FaultPlan()
        for (task, count) in pairs(environment["RECON_INJECT_FAULT"]) { plan.failures[task] = Int(count) ?? 1 }
        for (task, seconds) in pairs(environment["RECON_INJECT_PAUSE"]) { plan.pause[task] = Double(seconds) ?? 3600 }
        return plan
    }
}

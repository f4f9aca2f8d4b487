import Foundation
import Postgres
import Yams

/// A golden dataset: `golden/<name>/spec.yml` (generator arguments and vars) and the expected
/// outputs in `golden/<name>/expected/`: every ADS table as sorted CSV, and `checks.csv`.
package struct GoldenSpec: Sendable {
    package var name: String
    package var directory: String
    package var generator: GeneratorSpec
    package var vars: [String: String]

    package static func load(name: String, root: String) throws -> GoldenSpec {
        let directory = root + "/" + name
        let file = directory + "/spec.yml"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw InputError(file: file, message: "no golden dataset named \(name) (its spec.yml is missing)")
        }
        guard let node = try Yams.compose(yaml: text), let generator = node["generator"]?.mapping else {
            throw InputError(file: file, message: "expected a 'generator' mapping")
        }
        func value(_ key: String) -> String? { generator[Node(key)]?.string }
        guard let start = value("start").flatMap(CalendarDate.init), let days = value("days").flatMap(Int.init),
              let perDay = value("orders_per_day").flatMap(Int.init) else {
            throw InputError(file: file, message: "generator needs start, days and orders_per_day")
        }
        let spec = GeneratorSpec(
            seed: value("seed").flatMap(UInt64.init) ?? 42, start: start, days: days, ordersPerDay: perDay,
            merchants: value("merchants").flatMap(Int.init) ?? 20, resellers: value("resellers").flatMap(Int.init) ?? 4,
            anomalies: try AnomalySpec(parsing: value("anomalies") ?? "none"),
            businessTimeZone: value("business_timezone") ?? "UTC")
        var vars: [String: String] = [:]
        for (key, entry) in node["vars"]?.mapping ?? [:] {
            if let name = key.string, let text = entry.string { vars[name] = text }
        }
        return GoldenSpec(name: name, directory: directory, generator: spec, vars: vars)
    }

    /// Every golden dataset under `root`.
    package static func names(root: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .filter { FileManager.default.fileExists(atPath: "\(root)/\($0)/spec.yml") }.sorted()
    }
}

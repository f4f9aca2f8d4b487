import Foundation

/// results.json, exactly as EXPECTATIONS.md shows it: the run's record, written by every run.
public enum ResultsJSON {
    /// results.json, exactly as EXPECTATIONS.md shows it.
    public static func encode(_ result: AuditResult) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(result)
    }
}

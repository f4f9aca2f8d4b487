/// What a golden comparison found.
package struct GoldenOutcome: Sendable {
    package var name: String
    /// Table -> row differences (empty when equal).
    package var tables: [(table: String, differences: [RowDifference])] = []
    /// Checks whose outcome differs: id, expected "status/failing_rows", actual.
    package var checks: [(id: String, expected: String, actual: String)] = []
    package var snapshots: [TableSnapshot] = []
    package var checkOutcomes: TableSnapshot = TableSnapshot(table: "checks", header: ["id", "status", "failing_rows"], rows: [])

    package var isEqual: Bool { tables.allSatisfy { $0.differences.isEmpty } && checks.isEmpty }
}

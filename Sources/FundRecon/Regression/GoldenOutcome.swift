/// What a golden comparison found: each ADS table against its expected snapshot and the check
/// outcomes against `checks.csv`, in the row and money views of `recon diff` (the expected files
/// are the base, the run the head).
package struct GoldenOutcome: Sendable {
    package var name: String
    /// Each ADS table compared with its expected file.
    package var tables: [ModelDiff] = []
    /// Checks whose outcome differs: base is the expected status, head the actual.
    package var checks: [CheckChange] = []
    package var snapshots: [TableSnapshot] = []
    package var checkOutcomes: TableSnapshot = TableSnapshot(table: "checks", header: ["id", "status", "failing_rows"], rows: [])

    package var isEqual: Bool { tables.allSatisfy { !$0.isChanged } && checks.isEmpty }
}

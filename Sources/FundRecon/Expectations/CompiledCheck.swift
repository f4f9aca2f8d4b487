/// SQL for one check: a query returning its failing rows (dbt style), or, for row-level checks,
/// the condition a row fails by, to be fused with its table's other row-level checks.
struct CompiledCheck: Sendable {
    let spec: CheckSpec
    let relation: String
    let layer: CheckLayer
    /// Row-level: the predicate of a failing row (the `where` already folded in).
    var failCondition: String?
    /// Columns a failing row's sample adds to `*` (balance: both sides and the difference).
    var sampleExtras: String = ""
    /// Set-level: the query returning failing rows.
    var failingQuery: String?
    /// How failing rows are counted over `failingQuery`'s rows.
    var failingCount = "count(*)"
    /// A query of observed figures (row_count's counts), run whatever the outcome.
    var observedQuery: String?
    /// Reconcile: one statement returning the per-class figures and the first failing keys, so the
    /// classification is computed once. Its sample columns are `reconcileColumns`.
    var reconcileQuery: String?
    var reconcileColumns: [String] = []
    /// The SQL shown in reports.
    var displaySQL: String
    /// Reconcile scoped to a run's period: an empty side there is a quiet period, not a missing source.
    var scopedPairs = false
}

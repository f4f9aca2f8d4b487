import Postgres

/// A grouping a check reads: the rows of `relation` that pass `filter`, grouped by `keys`, with
/// the aggregates it needs. Checks of one suite that group the same table by the same keys (a
/// `unique`, the sides of reconciliations, a `balance` with a grain) share one pass over the
/// table: each takes its aggregates with `FILTER (WHERE its filter)` from the shared pass.
///
/// The rows a grouping hands its check have the keys as `k0`, `k1` ..., the aggregates by
/// name, and `lines`, the number of rows behind each key.
struct Grouping: Sendable {
    let relation: SQL
    let keys: [String]
    let filter: SQL
    let aggregates: [Aggregate]
    /// The rows the grouping reads at all (nil: every row): a scoped check's candidate keys, so
    /// that a period's checks read the period's keys by index, not the whole table.
    var within: SQL? = nil

    struct Aggregate: Sendable {
        let name: String
        let expression: SQL
    }

    /// What makes two groupings one pass: the table and the keys.
    var identity: String { relation.text + " BY " + keys.joined(separator: ", ") + (within.map { " WITHIN " + $0.text } ?? "") }

    /// The rows on their own: one statement grouping only the rows that pass the filter.
    var alone: SQL {
        let keyList = PlanContext.columns(keys)
        let aliased = keys.enumerated().map { "\(PlanContext.column($1)) AS \(identifier: "k\($0)")" as SQL }
        let values = aggregates.map { "\($0.expression) AS \(identifier: $0.name)" as SQL } + ["count(*) AS lines"]
        let condition: SQL = within.map { "(\(filter)) AND \($0)" } ?? filter
        return "SELECT \((aliased + values).joined(separator: ", ")) FROM \(relation) WHERE \(condition) GROUP BY \(keyList)"
    }

    /// The columns this grouping adds to a shared pass, their names prefixed `use`.
    func passColumns(_ use: String) -> [SQL] {
        aggregates.map { "\($0.expression) FILTER (WHERE \(filter)) AS \(identifier: use + "_" + $0.name)" as SQL }
            + ["count(*) FILTER (WHERE \(filter)) AS \(identifier: use + "_lines")"]
    }

    /// The rows read from the shared pass `pass`: the keys some of whose rows pass the filter.
    func rows(from pass: String, use: String) -> SQL {
        let columns = keys.indices.map { "\(identifier: "k\($0)")" as SQL }
            + aggregates.map { "\(identifier: use + "_" + $0.name) AS \(identifier: $0.name)" as SQL }
            + ["\(identifier: use + "_lines") AS lines"]
        return "SELECT \(columns.joined(separator: ", ")) FROM \(identifier: pass) WHERE \(identifier: use + "_lines") > 0"
    }

    /// The shared pass over the table for every use (name, grouping) of it.
    static func pass(_ uses: [(use: String, grouping: Grouping)]) -> SQL {
        let first = uses[0].grouping
        let aliased = first.keys.enumerated().map { "\(PlanContext.column($1)) AS \(identifier: "k\($0)")" as SQL }
        let columns = aliased + uses.flatMap { $0.grouping.passColumns($0.use) }
        let condition: SQL = first.within.map { " WHERE \($0)" } ?? ""
        return "SELECT \(columns.joined(separator: ", ")) FROM \(first.relation)\(condition) GROUP BY \(PlanContext.columns(first.keys))"
    }
}

/// A set-level check written over groupings, so that it can read them alone or from passes it
/// shares with other checks.
struct GroupedPlan: Sendable {
    /// The groupings the check reads, in the order `build` takes their rows.
    let groupings: [Grouping]
    /// The check's statement, given each grouping's rows (a SELECT).
    let build: @Sendable ([SQL]) -> SQL
    /// What the statement returns.
    let output: Output
    /// False when the check's groupings must stay in its own statement: a shared pass is a
    /// MATERIALIZED CTE, which Citus gathers on the coordinator, where a check alone over
    /// co-located sides runs on the workers.
    var sharesPasses = true

    enum Output: Sendable {
        /// The failing rows (`columns`), counted by `count`.
        case failingRows(count: SQL, columns: [String])
        /// One row of figures per class (`'class'`, the class, its count and amount, the keys of
        /// each side), then the first failing rows (`sampleColumns`, as text). An empty side is an
        /// error unless `scopedPairs` (a quiet period of a scoped run); `display` lists every failing row.
        case classified(sampleColumns: [String], scopedPairs: Bool, display: @Sendable ([SQL]) -> SQL)
    }

    /// The statement on its own.
    var alone: SQL { build(groupings.map(\.alone)) }

    /// True when every grouping reads its whole table (none is limited to a scoped run's keys).
    var readsWholeTables: Bool { groupings.allSatisfy { $0.within == nil } }
}

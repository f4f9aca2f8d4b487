import Postgres

/// A grouping a check reads: the rows of `relation` that pass `filter`, grouped by `keys`, with
/// the aggregates it needs (a `unique`, the sides of a reconciliation, a `balance` with a grain).
/// Each check groups in its own statement. Checks of one table by the same keys once shared a
/// MATERIALIZED pass; that cost more than it saved (10,000,000 orders: the two gateway
/// reconciliations 55.3-65.7 s together against 34.6-42.1 s apart), because the planner cannot
/// stream a materialized pass in key order into the sides' merge, nor group only each use's rows.
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
    var within: Within? = nil

    struct Aggregate: Sendable {
        let name: String
        let expression: SQL
    }

    /// How a grouping is limited to a scoped check's candidate keys.
    enum Within: Sendable {
        /// A condition on the rows (the keys as an uncorrelated IN, which the planner joins as it likes).
        case condition(SQL)
        /// The keys of the statement's `candidates` CTE (`KeyedCandidates`).
        case candidates(KeyedCandidates.Reading)
    }

    /// The rows on their own: one statement grouping only the rows that pass the filter.
    var alone: SQL {
        let keyList = PlanContext.columns(keys)
        let aliased = keys.enumerated().map { "\(PlanContext.column($1)) AS \(identifier: "k\($0)")" as SQL }
        let values = aggregates.map { "\($0.expression) AS \(identifier: $0.name)" as SQL } + ["count(*) AS lines"]
        let selected = (aliased + values).joined(separator: ", ")
        switch within {
        case nil:
            return "SELECT \(selected) FROM \(relation) WHERE \(filter) GROUP BY \(keyList)"
        case .condition(let condition):
            return "SELECT \(selected) FROM \(relation) WHERE (\(filter)) AND \(condition) GROUP BY \(keyList)"
        case .candidates(let reading):
            let joined: SQL = "SELECT \(selected) FROM \(relation) WHERE (\(filter)) AND \(reading.joined(keys))"
            guard reading.probed else { return joined + " GROUP BY \(keyList)" }
            // Both forms are planned; the one-time filters run one of them (`KeyedCandidates.few`).
            return """
                SELECT \(selected) FROM \(reading.candidates.name) c
                CROSS JOIN LATERAL (SELECT * FROM \(relation) WHERE (\(filter)) AND \(reading.matching(keys)) OFFSET 0) t
                WHERE \(reading.few) GROUP BY \(keyList)
                UNION ALL
                \(joined) AND NOT \(reading.few) GROUP BY \(keyList)
                """
        }
    }
}

/// A set-level check written over groupings: its statement is `build` over each grouping's rows.
struct GroupedPlan: Sendable {
    /// The groupings the check reads, in the order `build` takes their rows.
    let groupings: [Grouping]
    /// The check's statement, given each grouping's rows (a SELECT).
    let build: @Sendable ([SQL]) -> SQL
    /// What the statement returns.
    let output: Output

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

    /// True when a grouping reads a statement's candidate keys (`KeyedCandidates`).
    var readsCandidateKeys: Bool {
        groupings.contains { if case .candidates = $0.within { true } else { false } }
    }
}

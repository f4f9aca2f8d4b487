import Postgres

/// A scoped check's candidate keys (the keys of the period's rows, whose every row the check
/// reads), computed once per statement as a MATERIALIZED CTE, and how each grouping reads the rows
/// with those keys.
///
/// Left to the planner, a grouping of "the rows whose key IN (the day's keys)" joined the keys
/// with its whole table: each of 640,000 lookups costed as a page read from disk, against one
/// sequential read. At 10,000,000 orders the day's last hour read 9.4 million settlement lines and
/// 9.8 million expected rows for `gateway_alignment_charges` (18.4 s, 1.1 million pages), while a
/// day's keys are a thirtieth of a month's and their rows recent. A grouping whose table has an
/// index on its keys now looks each candidate up through it, while the candidates are few next to
/// the table (`few`); one without such an index keeps the IN, narrowed by the period's range when
/// its period column is one of its keys.
struct KeyedCandidates: Sendable {
    /// The CTE's name.
    let name: SQL
    /// How many key columns it has.
    let count: Int

    /// Probed while at most one candidate for this many rows of the table: as a merge's
    /// `KeyLookup` (a lookup costs a few index pages where a scan reads a row's share of one).
    static let largestProbedShare = KeyLookup.largestProbedShare

    init(name: String, count: Int) {
        self.name = "\(identifier: name)"
        self.count = count
    }

    /// The CTE's column names: `_candidate_key0`, `_candidate_key1`, ... (no table column is so named).
    func column(_ index: Int) -> SQL { "\(identifier: "_candidate_key\(index)")" }
    var columns: SQL { (0..<count).map(column).joined(separator: ", ") }

    /// How `grouping` reads its rows with a candidate key: looked up through an index of its table
    /// on `identity` (the side's own keys, without the columns it only matches also, such as a
    /// currency) when the catalog knows one, else the IN, narrowed by the range of the candidates'
    /// periods when `period` (the side's period column) is one of its keys.
    func reading(_ grouping: Grouping, identity: [String], period: String?, catalog: TableCatalog) -> Grouping.Within {
        let probed = catalog.keyIndexes[grouping.relation.text]?.looksUp(identity) ?? false
        let periodKey = period.flatMap { grouping.keys.firstIndex(of: $0) }
        return .candidates(Reading(candidates: self, relation: grouping.relation, probed: probed, periodKey: periodKey))
    }

    /// One grouping's way to its candidates' rows.
    struct Reading: Sendable {
        let candidates: KeyedCandidates
        let relation: SQL
        /// Whether the table's key index looks each candidate up (while they are few).
        let probed: Bool
        /// The position among the keys of the side's period column, when it is one.
        let periodKey: Int?

        /// The rows of `keys` among the candidates, as an uncorrelated IN, with the candidates'
        /// range of the period column when it is a key (an index on it then reads only that range).
        func joined(_ keys: [String]) -> SQL {
            let name = candidates.name
            var condition: SQL = "(\(PlanContext.columns(keys))) IN (SELECT \(candidates.columns) FROM \(name))"
            if let periodKey {
                let column = candidates.column(periodKey)
                condition = condition + " AND \(PlanContext.column(keys[periodKey])) BETWEEN (SELECT min(\(column)) FROM \(name))"
                    + " AND (SELECT max(\(column)) FROM \(name))"
            }
            return condition
        }

        /// A row of the table with the key of candidate `c`: equality, as IN compares (a NULL key matches nothing).
        func matching(_ keys: [String]) -> SQL {
            keys.indices.map { "\(PlanContext.column(keys[$0])) = c.\(candidates.column($0))" as SQL }.joined(separator: " AND ")
        }

        /// True while the candidates are few next to the table's estimated rows (false for a table
        /// never analyzed): evaluated once, at the start of the statement.
        var few: SQL {
            """
            coalesce((SELECT count(*) FROM \(candidates.name)) * \(integer: KeyedCandidates.largestProbedShare)
                     <= (SELECT reltuples FROM pg_class WHERE oid = to_regclass(\(literal: relation.text))), false)
            """
        }
    }
}

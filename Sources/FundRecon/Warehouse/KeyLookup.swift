import Postgres

/// How a merge reaches the rows of the warehouse table that have a key of its batch (the rows
/// that go): each distinct key of the batch looked up through the table's index on the key, when
/// the batch is small next to the table and the table has such an index; otherwise the batch's
/// keys as an uncorrelated IN, joined as the planner sees fit (the one form Citus runs whatever
/// the two tables' layouts: a table Citus lays out, distributed or reference, always takes it).
///
/// Left to the planner, a batch of a few percent of a large table was joined by reading the whole
/// table: at 10,000,000 orders the day's last hour merges 317,262 new settlement lines into 9.1
/// million, and the planner, which costs each of the 317,262 index lookups as a page read from
/// disk, compared all 9.1 million rows with the batch instead, twice (the digest of the rows that
/// go, then the DELETE): 13.4 and 8.3 s, 2.4 GB read each time, to find none. Looked up key by key
/// the same digest took 1.1 s; for `ads_gateway_recon`'s 317,262 keys, which all had a row, 1.8 s
/// against 12.1 s and the DELETE 1.3 s against 4.0 s (docs/performance.md, twentieth session).
struct KeyLookup {
    let destination: SQL
    let uniqueKey: [String]
    let batch: SQL
    /// Whether each key is looked up through the table's index (a nested loop the planner cannot
    /// turn into a join of the two tables whole: the lookup is a subquery behind `OFFSET 0`).
    let probed: Bool

    /// Looked up key by key when the batch holds at most one row for this many of the table's: a
    /// lookup costs a few index pages where a scan reads a row's share of one. Warm, a lookup took
    /// 3.4 µs and a row scanned 1.4 µs (lookups pay up to about 40% of the table); an eighth leaves
    /// room for lookups whose pages come from disk, and for a batch's rows that are not all keys.
    static let largestProbedShare = 8

    /// Decides for `batchRows` rows of `batch` against `destination`: the table's estimated rows
    /// and whether an index looks its key up (`KeyIndexes`), then, when both allow lookups, whether
    /// Citus lays the table out. A table never analyzed (no estimate) takes the IN.
    init(destination: SQL, uniqueKey: [String], batch: SQL, batchRows: Int, on connection: Connection) throws {
        self.destination = destination
        self.uniqueKey = uniqueKey
        self.batch = batch
        guard !uniqueKey.isEmpty else {
            probed = false
            return
        }
        guard let table = try KeyIndexes.load([destination.text], on: connection)[destination.text], let rows = table.rows else {
            probed = false
            return
        }
        let small = batchRows * Self.largestProbedShare <= rows
        let indexed = table.looksUp(uniqueKey)
        let distributed = try small && indexed && !Distribution.layouts(of: [destination.text], on: connection).isEmpty
        probed = small && indexed && !distributed
    }

    /// Each row that goes as its partition (`part`, the text of `partitionKey`) and its hash (`h`,
    /// of the whole row as text), for the merge's digests.
    func goingRows(partitionKey: SQL) -> SQL {
        guard probed else {
            return "SELECT \(partitionKey) AS part, hashtextextended(d::text, 0) AS h FROM \(destination) d WHERE \(inBatch)"
        }
        return """
            SELECT x.part, x.h FROM \(distinctKeys) k
            CROSS JOIN LATERAL (SELECT \(partitionKey) AS part, hashtextextended(d::text, 0) AS h
                                FROM \(destination) d WHERE \(matching) OFFSET 0) x
            """
    }

    /// Deletes the rows that go.
    var delete: SQL {
        guard probed else { return "DELETE FROM \(destination) WHERE \(inBatch)" }
        // The rows found key by key, then deleted by their row addresses (a TID scan over an array
        // of them: 6 bytes a row, 1.9 MB for the day's 317,000 lines at 10,000,000 orders).
        return """
            DELETE FROM \(destination) WHERE ctid = ANY (ARRAY(
              SELECT x.ctid FROM \(distinctKeys) k
              CROSS JOIN LATERAL (SELECT d.ctid FROM \(destination) d WHERE \(matching) OFFSET 0) x))
            """
    }

    private var keyList: SQL { uniqueKey.map { "\(identifier: $0)" as SQL }.joined(separator: ", ") }

    /// The rows with a key of the batch, as the IN the planner joins as it likes.
    private var inBatch: SQL { "(\(keyList)) IN (SELECT \(keyList) FROM \(batch))" }

    /// The batch's keys, each once (a key the batch holds twice still names its rows once).
    private var distinctKeys: SQL { "(SELECT DISTINCT \(keyList) FROM \(batch))" }

    /// A row `d` of the table with the key of `k`: equality, as IN compares (a NULL key matches nothing).
    private var matching: SQL {
        uniqueKey.map { "d.\(identifier: $0) = k.\(identifier: $0)" as SQL }.joined(separator: " AND ")
    }
}

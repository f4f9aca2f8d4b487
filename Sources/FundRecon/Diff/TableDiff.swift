import Foundation
import Postgres

/// Compares one relation of the base with its namesake of the head, in PostgreSQL: structure from
/// the catalog, rows by a hash of each row joined on the key (or counted as a multiset), the
/// changed cells of a sample, and the change of every money column's total per currency, period
/// and merchant. Nothing but counts, samples and grouped totals comes back to Swift.
struct TableDiff {
    struct Relation {
        var schema: String
        var table: String
        var sql: SQL { "\(schema: schema, table: table)" }
    }

    let connection: Connection
    /// Rows of each kind kept as samples.
    var sampleSize = 20
    /// Money groups kept per dimension (largest changes first).
    var moneyGroups = 100
    /// A column rows are joined on with the key first (`Columns.align`); by default the column
    /// both sides are distributed on when they are co-located Citus tables.
    var alignment: String?

    /// Columns no comparison reads: when the run loaded its sources, not what the model computed.
    static let lineageColumns: Set<String> = ["_loaded_at"]

    /// A relation's columns in order, with their types as PostgreSQL names them.
    func columns(of relation: Relation) throws -> [(name: String, type: String)] {
        try connection.query("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
            WHERE a.attrelid = to_regclass(\(relation.sql.text)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
            .filter { !TableDiff.lineageColumns.contains($0.name) }
    }

    /// What matches rows: key columns, where they came from, and whether both sides' tables
    /// enforce them (a unique index), so the comparison need not check.
    struct Key {
        var columns: [String]
        var source: String
        var enforced = false
    }

    /// Fills `diff` with the comparison of `base` and `head`: `key` matches rows (no columns: a
    /// multiset), `partition` places them in periods, `closedThrough` marks the closed ones.
    /// A view is read once per side, into a temporary table, and compared from there.
    func compare(base: Relation, head: Relation, key: Key, partition: String?, closedThrough: CalendarDate?,
                 into diff: inout ModelDiff) throws {
        let base = try materialized(base, as: "recon_diff_base")
        let head = try materialized(head, as: "recon_diff_head")
        defer {
            _ = try? connection.execute("""
                DROP TABLE IF EXISTS pg_temp.recon_diff_base, pg_temp.recon_diff_head, pg_temp.recon_diff_rows, pg_temp.recon_diff_pairs
                """)
        }
        let baseColumns = try columns(of: base)
        let headColumns = try columns(of: head)
        let baseTypes = Dictionary(baseColumns.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        let headTypes = Dictionary(headColumns.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        diff.columnsAdded = headColumns.map(\.name).filter { baseTypes[$0] == nil }
        diff.columnsRemoved = baseColumns.map(\.name).filter { headTypes[$0] == nil }
        let common = headColumns.map(\.name).filter { baseTypes[$0] != nil }
        let retyped = Set(common.filter { baseTypes[$0] != headTypes[$0] })
        diff.typeChanges = common.filter(retyped.contains).map { "\($0): \(baseTypes[$0]!) -> \(headTypes[$0]!)" }
        let counts = try connection.query("SELECT (SELECT count(*) FROM \(base.sql)), (SELECT count(*) FROM \(head.sql))").rows[0]
        diff.rowsBase = try counts.decode(Int.self, at: 0)
        diff.rowsHead = try counts.decode(Int.self, at: 1)
        diff.partitionColumn = partition.flatMap { common.contains($0) ? $0 : nil }
        guard !common.isEmpty else { return }

        // A key with a column missing on either side is no key; one that is not unique neither.
        var columns = Columns(common: common, key: key.columns.allSatisfy(common.contains) ? key.columns : [],
                              partition: diff.partitionColumn, retyped: retyped)
        var source = columns.key.isEmpty ? "no key: compared as a multiset" : key.source
        if !columns.key.isEmpty, !key.enforced, try !isUnique(columns, in: base) || !isUnique(columns, in: head) {
            source = "\(key.source), not unique on both sides: compared as a multiset"
            columns.key = []
        }
        diff.key = columns.key
        diff.keySource = source
        if !columns.key.isEmpty, let aligned = try alignment ?? sharedDistribution(base, head), common.contains(aligned),
           !columns.key.contains(aligned), !retyped.contains(aligned) {
            columns.align = aligned
        }
        do {
            try compareRows(base, head, columns, closedThrough: closedThrough, into: &diff)
        } catch let error as PostgresError where error.sqlState == .undefinedFunction && !columns.hashesText {
            columns.hashesText = true
            try compareRows(base, head, columns, closedThrough: closedThrough, into: &diff)
        }
        if diff.hasRowChanges {
            let money = common.filter { Self.isMoney(headTypes[$0]!) && Self.isMoney(baseTypes[$0]!) }
            try compareMoney(base, head, money: money, common: common, partition: diff.partitionColumn,
                             closedThrough: closedThrough, into: &diff)
        }
    }

    private func compareRows(_ base: Relation, _ head: Relation, _ columns: Columns, closedThrough: CalendarDate?,
                             into diff: inout ModelDiff) throws {
        try connection.execute("DROP TABLE IF EXISTS pg_temp.recon_diff_rows, pg_temp.recon_diff_pairs")
        if columns.key.isEmpty {
            try compareMultiset(base, head, columns, closedThrough: closedThrough, into: &diff)
        } else {
            try compareKeyed(base, head, columns, closedThrough: closedThrough, into: &diff)
        }
    }

    /// The column both sides are distributed on when they are co-located tables of a Citus cluster
    /// (a model's base and head tables are): nil on one PostgreSQL.
    private func sharedDistribution(_ base: Relation, _ head: Relation) throws -> String? {
        let names = [base.sql.text, head.sql.text]
        return TableCatalog(layouts: try Distribution.layouts(of: names, on: connection)).sharedDistribution(names[0], names[1])
    }

    /// A view's rows in a temporary table (a view's query runs once, not once per statement).
    private func materialized(_ relation: Relation, as name: String) throws -> Relation {
        let kind: String? = try connection.query(
            "SELECT relkind::text FROM pg_class WHERE oid = to_regclass(\(relation.sql.text))").first?.decode(String.self, at: 0)
        guard kind == "v" || kind == "m" else { return relation }
        try connection.execute("DROP TABLE IF EXISTS pg_temp.\(identifier: name)")
        try connection.execute("CREATE TEMP TABLE \(identifier: name) AS SELECT * FROM \(relation.sql)")
        try connection.execute("ANALYZE pg_temp.\(identifier: name)")
        return Relation(schema: "pg_temp", table: name)
    }

    /// `numeric` with scale 2: money (DATA_CONTRACT.md's amounts, exact to the cent).
    static func isMoney(_ type: String) -> Bool {
        type.hasPrefix("numeric(") && type.hasSuffix(",2)")
    }

    private func isUnique(_ columns: Columns, in relation: Relation) throws -> Bool {
        let duplicates: Bool = try connection.query(
            "SELECT EXISTS (SELECT 1 FROM \(relation.sql) GROUP BY \(columns.list(columns.key)) HAVING count(*) > 1)").scalar()
        return !duplicates
    }

    /// The column lists the statements are made of. A row's values are reduced to a 64-bit hash of
    /// the record (`hash_record_extended`); a column whose type changed enters as its text, so it
    /// compares by what it shows. Keys are joined as they are (a key column whose type changed, as
    /// text), so an index on them serves the joins back; rows whose key is NULL never match.
    struct Columns {
        var common: [String]
        var key: [String]
        var partition: String?
        var retyped: Set<String>
        /// Hash the values' text: a column's type has no hash function (`json`, `point`).
        var hashesText = false
        /// A column both sides are distributed on (Citus), not in the key: rows are first joined on
        /// the key and it, so the join runs on each worker, and only the rows that differ are then
        /// paired by the key alone (a row whose distribution value changed is still one changed row).
        var align: String?
        var others: [String] { common.filter { !key.contains($0) } }

        /// A column as it is compared, qualified by `alias` when given.
        func value(_ name: String, alias: String? = nil) -> SQL {
            let column: SQL = alias.map { "\(identifier: $0).\(identifier: name)" } ?? "\(identifier: name)"
            return retyped.contains(name) ? "\(column)::text" : column
        }

        func list(_ names: [String], alias: String? = nil) -> SQL {
            names.map { value($0, alias: alias) }.joined(separator: ", ")
        }

        /// The hash of the columns' values (a constant for none).
        func hash(_ names: [String], alias: String? = nil) -> SQL {
            if names.isEmpty { return "0::bigint" }
            return hashesText ? "hashtextextended(ROW(\(list(names, alias: alias)))::text, 0)"
                              : "hash_record_extended(ROW(\(list(names, alias: alias))), 0)"
        }

        /// The key's columns as a side's subquery names them: `k0, k1, ...`.
        var keyNames: [String] { key.indices.map { "k\($0)" } }
        /// The key of a row of either side of the full join of `differingRows`.
        var mergedKeys: SQL { keyNames.map { "coalesce(b.\(identifier: $0), h.\(identifier: $0)) AS \(identifier: $0)" as SQL }.joined(separator: ", ") }

        /// `FROM` both sides, each row as its key and the hash of its other columns (and the `align`
        /// column, joined on with the key), fully joined, keeping the rows that meet no equal row.
        func differingRows(_ base: Relation, _ head: Relation) -> SQL {
            let keys = key.enumerated().map { "\(value($1)) AS \(identifier: "k\($0)")" as SQL }.joined(separator: ", ")
            let aligned: SQL = align.map { ", \(identifier: $0) AS a" } ?? ""
            let on = keyNames.map { "b.\(identifier: $0) = h.\(identifier: $0)" as SQL }.joined(separator: " AND ")
                + (align == nil ? "" : " AND b.a = h.a")
            return """
                FROM (SELECT \(keys)\(aligned), \(hash(others)) AS r FROM \(base.sql)) b
                FULL JOIN (SELECT \(keys)\(aligned), \(hash(others)) AS r FROM \(head.sql)) h ON \(on)
                WHERE b.r IS DISTINCT FROM h.r
                """
        }

        /// `a.k1 = b.k1 AND ...` over the key.
        func keyEquals(_ left: String, _ right: String) -> SQL {
            key.map { "\(value($0, alias: left)) = \(value($0, alias: right))" as SQL }.joined(separator: " AND ")
        }
    }

    private func compareKeyed(_ base: Relation, _ head: Relation, _ columns: Columns, closedThrough: CalendarDate?,
                              into diff: inout ModelDiff) throws {
        if columns.align != nil {
            // On the workers: the rows whose key and distribution value do not meet an equal row.
            try connection.execute("CREATE TEMP TABLE recon_diff_pairs AS " + Self.alignedPairs(base, head, columns))
            // Then by the key alone, as the plain join classifies them. A NULL key matches nothing,
            // so such a row stays one side's row and is not grouped with another.
            let names = columns.keyNames.map { "\(identifier: $0)" as SQL }.joined(separator: ", ")
            let keyed = columns.keyNames.map { "\(identifier: $0) IS NOT NULL" as SQL }.joined(separator: " AND ")
            try connection.execute("""
                CREATE TEMP TABLE recon_diff_rows AS
                SELECT \(names), CASE WHEN bool_or(in_base) AND bool_or(in_head) THEN 'changed'
                                      WHEN bool_or(in_base) THEN 'removed' ELSE 'added' END AS kind
                FROM pg_temp.recon_diff_pairs WHERE \(keyed) GROUP BY \(names)
                UNION ALL
                SELECT \(names), CASE WHEN in_base THEN 'removed' ELSE 'added' END
                FROM pg_temp.recon_diff_pairs WHERE NOT (\(keyed))
                """)
        } else {
            try connection.execute("""
                CREATE TEMP TABLE recon_diff_rows AS
                SELECT \(columns.mergedKeys), CASE WHEN b.r IS NULL THEN 'added' WHEN h.r IS NULL THEN 'removed' ELSE 'changed' END AS kind
                \(columns.differingRows(base, head))
                """)
        }
        // Its size, known to the planner, picks the joins back to both sides: index lookups for a
        // few rows, hash joins for many (a guessed size chose nested loops over whole tables).
        try connection.execute("ANALYZE pg_temp.recon_diff_rows")
        func joinOn(_ alias: String) -> SQL {
            columns.key.enumerated().map { "\(columns.value($1, alias: alias)) = d.\(identifier: "k\($0)")" as SQL }.joined(separator: " AND ")
        }
        let joined: SQL = """
            pg_temp.recon_diff_rows d
            LEFT JOIN \(base.sql) b ON \(joinOn("b"))
            LEFT JOIN \(head.sql) h ON \(joinOn("h"))
            """
        var figures: [SQL] = ["count(*) FILTER (WHERE d.kind = 'added')", "count(*) FILTER (WHERE d.kind = 'removed')",
                              "count(*) FILTER (WHERE d.kind = 'changed')"]
        figures += columns.others.map { name in
            "count(*) FILTER (WHERE d.kind = 'changed' AND b.\(identifier: name)::text IS DISTINCT FROM h.\(identifier: name)::text)"
        }
        if let partition = columns.partition, let closedThrough {
            let value = "least(b.\(quoteIdentifier(partition)), h.\(quoteIdentifier(partition)))"
            figures.append("count(*) FILTER (WHERE \(Self.closed(value, monthly: partition.contains("month"), through: closedThrough)))")
        }
        let row = try connection.query("SELECT \(figures.joined(separator: ", ")) FROM \(joined)").rows[0]
        diff.added = try row.decode(Int.self, at: 0)
        diff.removed = try row.decode(Int.self, at: 1)
        diff.changed = try row.decode(Int.self, at: 2)
        for (index, name) in columns.others.enumerated() {
            let count = try row.decode(Int.self, at: 3 + index)
            if count > 0 { diff.changedColumns[name] = count }
        }
        if columns.partition != nil, closedThrough != nil { diff.closedRows = try row.decode(Int.self, at: 3 + columns.others.count) }
        guard diff.hasRowChanges else { return }

        // The samples: the first rows of each kind in key order, joined back to both sides.
        let keyObject = columns.key.map { "\(literal: $0), coalesce(b.\(identifier: $0), h.\(identifier: $0))::text" as SQL }
        let triples: SQL = columns.others.isEmpty ? "NULL" : """
            (SELECT jsonb_agg(jsonb_build_array(v.c, v.b, v.h) ORDER BY v.n)
             FROM (VALUES \(columns.others.enumerated().map { i, name in
                "(\(integer: i), \(literal: name), b.\(identifier: name)::text, h.\(identifier: name)::text)" as SQL }.joined(separator: ", ")))
                  AS v(n, c, b, h) WHERE v.b IS DISTINCT FROM v.h)
            """
        let order = columns.keyNames.map { "d.\(identifier: $0)" as SQL }.joined(separator: ", ")
        let rows = try connection.query("""
            WITH d AS (SELECT * FROM (SELECT d.*, row_number() OVER (PARTITION BY d.kind ORDER BY \(order)) AS n
                                      FROM pg_temp.recon_diff_rows d) s WHERE n <= \(integer: sampleSize))
            SELECT d.kind, jsonb_build_object(\(keyObject.joined(separator: ", ")))::text,
                   CASE WHEN d.kind = 'changed' THEN \(triples) END::text,
                   CASE d.kind WHEN 'added' THEN (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each_text(to_jsonb(h) - '_loaded_at') e)
                               WHEN 'removed' THEN (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each_text(to_jsonb(b) - '_loaded_at') e)
                   END::text
            FROM d LEFT JOIN \(base.sql) b ON \(joinOn("b")) LEFT JOIN \(head.sql) h ON \(joinOn("h"))
            ORDER BY d.kind, \(order)
            """).rows
        for row in rows {
            var change = RowChange(kind: RowChange.Kind(rawValue: try row.decode(String.self, at: 0)) ?? .changed,
                                   key: Self.textObject(row.text(at: 1)))
            change.row = Self.textObject(row.text(at: 3))
            if let text = row.text(at: 2), let triples = try? JSONDecoder().decode([[String?]].self, from: Data(text.utf8)) {
                change.columns = triples.compactMap { triple in
                    guard triple.count == 3, let name = triple[0] else { return nil }
                    return ColumnChange(column: name, base: triple[1], head: triple[2], difference: Self.difference(triple[1], triple[2]))
                }
            }
            diff.samples.append(change)
        }
    }

    /// The rows of `base` and `head` whose key and `columns.align` value meet no equal row, with
    /// the side each is on: one join on the distribution column, which Citus runs on each worker.
    static func alignedPairs(_ base: Relation, _ head: Relation, _ columns: Columns) -> SQL {
        "SELECT \(columns.mergedKeys), b.r IS NOT NULL AS in_base, h.r IS NOT NULL AS in_head\n" + columns.differingRows(base, head)
    }

    private func compareMultiset(_ base: Relation, _ head: Relation, _ columns: Columns, closedThrough: CalendarDate?,
                                 into diff: inout ModelDiff) throws {
        let partition: SQL = columns.partition.map { "min(\(identifier: $0))" } ?? "NULL::date"
        try connection.execute("""
            CREATE TEMP TABLE recon_diff_rows AS
            SELECT coalesce(b.r, h.r) AS r, coalesce(b.n, 0) AS bn, coalesce(h.n, 0) AS hn, least(b.p, h.p) AS p
            FROM (SELECT \(columns.hash(columns.common)) AS r, count(*) AS n, \(partition) AS p FROM \(base.sql) GROUP BY 1) b
            FULL JOIN (SELECT \(columns.hash(columns.common)) AS r, count(*) AS n, \(partition) AS p FROM \(head.sql) GROUP BY 1) h ON b.r = h.r
            WHERE b.n IS DISTINCT FROM h.n
            """)
        try connection.execute("ANALYZE pg_temp.recon_diff_rows")
        let monthly = columns.partition?.contains("month") ?? false
        let closed: SQL = closedThrough.map { "coalesce(sum(abs(hn - bn)) FILTER (WHERE \(Self.closed("p", monthly: monthly, through: $0))), 0)" } ?? "0"
        let row = try connection.query("""
            SELECT coalesce(sum(greatest(hn - bn, 0)), 0), coalesce(sum(greatest(bn - hn, 0)), 0), \(closed) FROM pg_temp.recon_diff_rows
            """).rows[0]
        diff.added = try row.decode(Int.self, at: 0)
        diff.removed = try row.decode(Int.self, at: 1)
        diff.closedRows = columns.partition == nil ? 0 : try row.decode(Int.self, at: 2)
        guard diff.hasRowChanges else { return }
        for (kind, relation, condition) in [("removed", base, "bn > hn"), ("added", head, "hn > bn")] as [(String, Relation, SQL)] {
            // As many copies of each row as it has more on that side (a row twice in the base and
            // once in the head is one removed row).
            let rows = try connection.query("""
                WITH m AS (SELECT r, abs(bn - hn) AS extra FROM pg_temp.recon_diff_rows WHERE \(condition)),
                     t AS (SELECT to_jsonb(t) - '_loaded_at' AS j, \(columns.hash(columns.common, alias: "t")) AS r
                           FROM \(relation.sql) t WHERE \(columns.hash(columns.common, alias: "t")) IN (SELECT r FROM m)),
                     n AS (SELECT j, r, row_number() OVER (PARTITION BY r) AS copy FROM t)
                SELECT (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each_text(n.j) e)::text AS row
                FROM n JOIN m USING (r) WHERE n.copy <= m.extra ORDER BY 1 LIMIT \(integer: sampleSize)
                """).rows
            for row in rows {
                let values = Self.textObject(row.text(at: 0))
                diff.samples.append(RowChange(kind: RowChange.Kind(rawValue: kind)!, key: values, row: values))
            }
        }
    }

    /// Every money column's change per currency (total), per period and month, and per merchant.
    private func compareMoney(_ base: Relation, _ head: Relation, money: [String], common: [String], partition: String?,
                              closedThrough: CalendarDate?, into diff: inout ModelDiff) throws {
        guard !money.isEmpty else { return }
        let currency: SQL = common.contains("currency") ? "currency::text" : "'(none)'::text"
        let merchant: SQL = common.contains("merchant_id") ? "merchant_id::text" : "NULL::text"
        let period: SQL = partition.map { "\(identifier: $0)::date" } ?? "NULL::date"
        let monthly = partition?.contains("month") ?? false
        let sums = money.enumerated().map { "sum(\(identifier: $1)) AS \(identifier: "x\($0)")" as SQL }.joined(separator: ", ")
        let pairs = money.indices.map { "coalesce(b.\(identifier: "x\($0)"), 0) AS \(identifier: "b\($0)"), coalesce(h.\(identifier: "x\($0)"), 0) AS \(identifier: "h\($0)")" as SQL }
        let totals = money.indices.map { "sum(\(identifier: "b\($0)"))::text, sum(\(identifier: "h\($0)"))::text, (sum(\(identifier: "h\($0)")) - sum(\(identifier: "b\($0)")))::text" as SQL }
        let side = { (relation: Relation) -> SQL in
            "SELECT \(currency) AS c, \(period) AS p, \(merchant) AS m, \(sums) FROM \(relation.sql) GROUP BY 1, 2, 3"
        }
        // The groups: every currency's total, and per merchant, period and month where the model has them.
        var groups: [(set: SQL, column: SQL, dimension: String)] = []
        if common.contains("merchant_id") { groups.append(("(c, m)", "m", "merchant")) }
        if partition != nil {
            groups.append(monthly ? ("(c, mo)", "mo::text", "month") : ("(c, p)", "p::text", "day"))
            if !monthly { groups.append(("(c, mo)", "mo::text", "month")) }
        }
        let used = groups.map { $0.set == "(c, m)" ? "m" : $0.set == "(c, p)" ? "p" : "mo" }
        let dimension = groups.enumerated().map { index, group in
            "WHEN GROUPING(\(unsafeSQL: used[index])) = 0 THEN \(literal: group.dimension)" as SQL }.joined(separator: " ")
        let value = groups.enumerated().map { index, group in
            "WHEN GROUPING(\(unsafeSQL: used[index])) = 0 THEN \(group.column)" as SQL }.joined(separator: " ")
        let rows = try connection.query("""
            WITH b AS (\(side(base))), h AS (\(side(head))),
            j AS (SELECT coalesce(b.c, h.c) AS c, coalesce(b.p, h.p) AS p, date_trunc('month', coalesce(b.p, h.p))::date AS mo,
                         coalesce(b.m, h.m) AS m, \(pairs.joined(separator: ", "))
                  FROM b FULL JOIN h ON ROW(b.c, b.p, b.m)::text = ROW(h.c, h.p, h.m)::text)
            SELECT \(groups.isEmpty ? "'total'" as SQL : "CASE \(dimension) ELSE 'total' END"),
                   \(groups.isEmpty ? "''" as SQL : "coalesce(CASE \(value) END, '')"), c, \(totals.joined(separator: ", "))
            FROM j GROUP BY GROUPING SETS ((c)\(groups.map { ", " + $0.set as SQL }.joined()))
            """).rows
        var changes: [MoneyChange] = []
        for row in rows {
            let dimension = try row.decode(String.self, at: 0)
            let value = row.text(at: 1) ?? ""
            let currencyText = row.text(at: 2) ?? ""
            for (index, column) in money.enumerated() {
                let delta = row.text(at: 5 + index * 3) ?? "0"
                guard let amount = Decimal(string: delta), amount != 0 || dimension == "total" else { continue }
                if dimension == "total" && amount == 0 { continue }
                changes.append(MoneyChange(dimension: dimension, value: value, currency: currencyText, column: column,
                                           base: row.text(at: 3 + index * 3) ?? "0", head: row.text(at: 4 + index * 3) ?? "0", delta: delta))
            }
        }
        func magnitude(_ change: MoneyChange) -> Decimal { abs(Decimal(string: change.delta) ?? 0) }
        let order = ["total", "month", "day", "merchant"]
        changes.sort {
            ($0.dimension != $1.dimension) ? (order.firstIndex(of: $0.dimension) ?? 9) < (order.firstIndex(of: $1.dimension) ?? 9)
                : magnitude($0) != magnitude($1) ? magnitude($0) > magnitude($1)
                : ($0.currency, $0.column, $0.value) < ($1.currency, $1.column, $1.value)
        }
        if let closedThrough {
            let periodDimension = monthly ? "month" : "day"
            let closed = changes.filter { change in
                guard change.dimension == periodDimension, let start = CalendarDate(change.value) else { return false }
                return (monthly ? start.lastOfMonth : start) <= closedThrough
            }
            // Money columns are scale 2: their deltas add up exactly in cents.
            var totals: [String: Cents] = [:]
            for change in closed { totals["\(change.currency)\u{1}\(change.column)", default: Cents(0)] += Cents(change.delta) ?? Cents(0) }
            diff.closedMoney = totals.sorted { $0.key < $1.key }.compactMap { key, delta in
                let parts = key.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
                return delta.rawValue == 0 ? nil : MoneyChange(dimension: "total", value: "", currency: parts[0], column: parts[1],
                                                               base: "", head: "", delta: delta.description)
            } + closed.prefix(moneyGroups)
        }
        var kept: [String: Int] = [:]
        diff.money = changes.filter { change in
            kept[change.dimension, default: 0] += 1
            return kept[change.dimension]! <= moneyGroups
        }
    }

    /// A JSON object of texts (or nulls, shown as NULL).
    static func textObject(_ text: String?) -> [String: String] {
        guard let text, let object = try? JSONDecoder().decode([String: String?].self, from: Data(text.utf8)) else { return [:] }
        return object.mapValues { $0 ?? "NULL" }
    }

    /// head - base when both are decimal numbers, to the cent when both are amounts.
    static func difference(_ base: String?, _ head: String?) -> String? {
        guard let base, let head, base.allSatisfy({ "0123456789.-".contains($0) }), head.allSatisfy({ "0123456789.-".contains($0) })
        else { return nil }
        if let a = Cents(base), let b = Cents(head) { return (b - a).description }
        guard let a = Decimal(string: base), let b = Decimal(string: head) else { return nil }
        return "\(b - a)"
    }

    /// Whether a partition value is in the closed period: a day at or before the date, a month
    /// (a partition column named for months) whose last day is.
    static func closed(_ partition: String, monthly: Bool, through date: CalendarDate) -> SQL {
        monthly ? "(\(unsafeSQL: partition) + interval '1 month' - interval '1 day')::date <= \(date.description)::date"
                : "\(unsafeSQL: partition) <= \(date.description)::date"
    }
}

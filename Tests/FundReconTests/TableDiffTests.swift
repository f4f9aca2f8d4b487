import Foundation
import Postgres
import Testing

@testable import FundRecon

/// The diff engine on hand-made tables: every figure here is known from the rows written.
@Suite("TableDiff: rows, cells and money compared in PostgreSQL")
struct TableDiffTests {
    /// Two schemas with a table each; returns their names.
    func tables(base: String, head: String) throws -> (Connection, TableDiff.Relation, TableDiff.Relation) {
        let connection = try SharedCluster.connect()
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let (b, h) = ("tdb_\(suffix)", "tdh_\(suffix)")
        for (schema, rows) in [(b, base), (h, head)] {
            try connection.execute("CREATE SCHEMA \(identifier: schema)")
            try connection.execute(SQL(unsafeSQL:
                "CREATE TABLE \(quoteIdentifier(schema)).t (id int, currency text, biz_date date, amount numeric(18,2), note json)"))
            try connection.execute(SQL(unsafeSQL: "INSERT INTO \(quoteIdentifier(schema)).t VALUES \(rows)"))
        }
        return (connection, TableDiff.Relation(schema: b, table: "t"), TableDiff.Relation(schema: h, table: "t"))
    }

    func drop(_ connection: Connection, _ relations: TableDiff.Relation...) {
        for relation in relations { _ = try? connection.execute("DROP SCHEMA \(identifier: relation.schema) CASCADE") }
    }

    @Test func keyedRowsCellsMoneyAndClosedPeriods() throws {
        let (connection, base, head) = try tables(
            base: """
                (1, 'USD', '2026-10-01', 10.00, '{"a": 1}'), (2, 'USD', '2026-10-02', 20.00, null),
                (3, 'EUR', '2026-10-02', 30.00, null), (4, 'EUR', '2026-11-01', 40.00, null)
                """,
            head: """
                (1, 'USD', '2026-10-01', 10.50, '{"a": 1}'), (2, 'USD', '2026-10-02', 20.00, '{"b": 2}'),
                (4, 'EUR', '2026-11-01', 40.00, null), (5, 'EUR', '2026-11-02', 5.25, null)
                """)
        defer { drop(connection, base, head) }
        var diff = ModelDiff(model: "t", layer: "dwd", status: .compared)
        // `json` has no hash function: the engine falls back to hashing the values' text.
        try TableDiff(connection: connection).compare(base: base, head: head, key: TableDiff.Key(columns: ["id"], source: "test"),
                                                      partition: "biz_date", closedThrough: CalendarDate("2026-10-31"), into: &diff)
        #expect(diff.key == ["id"])
        #expect((diff.added, diff.removed, diff.changed) == (1, 1, 2))
        #expect(diff.changedColumns == ["amount": 1, "note": 1])
        #expect(diff.rowsBase == 4 && diff.rowsHead == 4)
        // Rows 1, 2 and 3 are October's (closed through 10-31); row 5 is November's.
        #expect(diff.closedRows == 3)
        let changed = try #require(diff.samples.first { $0.kind == .changed && $0.key["id"] == "1" })
        #expect(changed.columns.map(\.description) == ["amount 10.00 -> 10.50 (+0.50)"])
        #expect(diff.samples.first { $0.kind == .removed }?.row["amount"] == "30.00")
        #expect(diff.samples.first { $0.kind == .added }?.row["id"] == "5")

        func money(_ dimension: String, _ value: String, _ currency: String) -> String? {
            diff.money.first { $0.dimension == dimension && $0.value == value && $0.currency == currency && $0.column == "amount" }?.delta
        }
        // Each currency on its own, never added together.
        #expect(money("total", "", "USD") == "0.50")
        #expect(money("total", "", "EUR") == "-24.75")
        #expect(money("day", "2026-10-02", "EUR") == "-30.00")
        #expect(money("day", "2026-11-02", "EUR") == "5.25")
        #expect(money("month", "2026-10-01", "EUR") == "-30.00")
        #expect(money("month", "2026-11-01", "EUR") == "5.25")
        #expect(diff.money.first { $0.dimension == "total" && $0.currency == "EUR" }?.base == "70.00")
        #expect(diff.money.first { $0.dimension == "total" && $0.currency == "EUR" }?.head == "45.25")
        // The closed months' money: October only.
        #expect(diff.closedMoney.first { $0.dimension == "total" && $0.currency == "EUR" }?.delta == "-30.00")
        #expect(diff.closedMoney.first { $0.dimension == "total" && $0.currency == "USD" }?.delta == "0.50")
    }

    /// Joined on the key and a distribution column first (as on Citus, where that join runs on the
    /// workers), then paired by the key alone: the same rows, cells and samples as the key alone
    /// gives, a row whose distribution value changed included, and NULL keys matching nothing.
    @Test func alignedOnADistributionColumnTheDiffIsTheKeysAlone() throws {
        let (connection, base, head) = try tables(
            base: """
                (1, 'USD', '2026-10-01', 10.00, null), (2, 'USD', '2026-10-02', 20.00, null),
                (3, 'EUR', '2026-10-02', 30.00, null), (null, 'EUR', '2026-10-03', 7.00, null)
                """,
            head: """
                (1, 'EUR', '2026-10-01', 10.00, null), (2, 'USD', '2026-10-02', 20.00, null),
                (4, 'USD', '2026-10-04', 4.00, null), (null, 'EUR', '2026-10-03', 7.00, null)
                """)
        defer { drop(connection, base, head) }
        var diffs: [ModelDiff] = []
        for alignment in [nil, "currency"] as [String?] {
            var diff = ModelDiff(model: "t", layer: "dwd", status: .compared)
            var engine = TableDiff(connection: connection)
            engine.alignment = alignment
            try engine.compare(base: base, head: head, key: TableDiff.Key(columns: ["id"], source: "test", enforced: true),
                               partition: "biz_date", closedThrough: nil, into: &diff)
            diffs.append(diff)
        }
        let (plain, aligned) = (diffs[0], diffs[1])
        #expect((aligned.added, aligned.removed, aligned.changed) == (2, 2, 1))
        #expect(aligned.changedColumns == ["currency": 1])
        #expect((plain.added, plain.removed, plain.changed) == (aligned.added, aligned.removed, aligned.changed))
        #expect(plain.changedColumns == aligned.changedColumns)
        #expect(plain.samples.map { "\($0.kind) \($0.key) \($0.columns.map(\.description))" }
                == aligned.samples.map { "\($0.kind) \($0.key) \($0.columns.map(\.description))" })
        #expect(plain.money.map(\.delta) == aligned.money.map(\.delta))
    }

    @Test func aKeyThatIsNotUniqueIsAMultisetAndSaysSo() throws {
        let (connection, base, head) = try tables(
            base: "(1, 'USD', '2026-10-01', 1.00, null), (1, 'USD', '2026-10-01', 1.00, null), (2, 'USD', '2026-10-01', 2.00, null)",
            head: "(1, 'USD', '2026-10-01', 1.00, null), (2, 'USD', '2026-10-01', 2.00, null), (2, 'USD', '2026-10-01', 2.00, null)")
        defer { drop(connection, base, head) }
        var diff = ModelDiff(model: "t", layer: "dwd", status: .compared)
        try TableDiff(connection: connection).compare(base: base, head: head, key: TableDiff.Key(columns: ["id"], source: "unique check x"),
                                                      partition: nil, closedThrough: nil, into: &diff)
        #expect(diff.key.isEmpty)
        #expect(diff.keySource == "unique check x, not unique on both sides: compared as a multiset")
        #expect((diff.added, diff.removed, diff.changed) == (1, 1, 0))
        #expect(diff.samples.map(\.kind) == [.removed, .added])
    }

    @Test func equalTablesAndChangedTypes() throws {
        let rows = "(1, 'USD', '2026-10-01', 1.00, null), (2, 'EUR', '2026-10-02', 2.00, null)"
        let (connection, base, head) = try tables(base: rows, head: rows)
        defer { drop(connection, base, head) }
        var same = ModelDiff(model: "t", layer: "dwd", status: .compared)
        try TableDiff(connection: connection).compare(base: base, head: head, key: TableDiff.Key(columns: ["id"], source: "test"),
                                                      partition: "biz_date", closedThrough: nil, into: &same)
        #expect(!same.isChanged && same.summary == "no difference" && same.money.isEmpty)
        // A wider scale prints differently: a type change, and every row's cell with it.
        try connection.execute("ALTER TABLE \(identifier: head.schema).t ALTER COLUMN amount TYPE numeric(18,4)")
        try connection.execute("ALTER TABLE \(identifier: head.schema).t ADD COLUMN extra int")
        var retyped = ModelDiff(model: "t", layer: "dwd", status: .compared)
        try TableDiff(connection: connection).compare(base: base, head: head, key: TableDiff.Key(columns: ["id"], source: "test"),
                                                      partition: "biz_date", closedThrough: nil, into: &retyped)
        #expect(retyped.typeChanges == ["amount: numeric(18,2) -> numeric(18,4)"])
        #expect(retyped.columnsAdded == ["extra"])
        #expect(retyped.changed == 2 && retyped.changedColumns == ["amount": 2])
        // Money is numeric with scale 2 on both sides: a retyped amount is no longer compared as money.
        #expect(retyped.money.isEmpty)
    }
}

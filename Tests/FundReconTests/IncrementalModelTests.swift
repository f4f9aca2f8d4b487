import Foundation
import Postgres
import Testing

@testable import FundRecon

/// dbt's incremental materialization as the model runner reads and builds it: `is_incremental()`,
/// `{{ this }}`, `unique_key`, and a batch merged by delete+insert with its partitions recorded.
@Suite("Incremental models: dbt's syntax, and a batch merged by its unique key")
struct IncrementalModelTests {
    static let model = """
        {{ config(materialized='incremental', unique_key=['grp', 'day'], incremental_strategy='delete+insert', partition_by='day') }}
        select grp, day, sum(amount) as amount, max(_loaded_at) as _loaded_at
        from {{ source('ods', 'ods_x') }}
        {% if is_incremental() %}
        where (grp, day) in (select grp, day from {{ source('ods', 'ods_x') }}
                             where _loaded_at > (select coalesce(max(_loaded_at), '-infinity'::timestamptz) from {{ this }}))
        {% else %}
        where true
        {% endif %}
        group by grp, day
        """

    func error(_ text: String) throws -> PipelineError {
        try #require(throws: PipelineError.self) { _ = try ModelTemplate(parsing: text, file: "models/dwd/dwd_a.sql") }
    }

    @Test func readsConfigAndBothBranches() throws {
        let template = try ModelTemplate(parsing: Self.model, file: "models/dwd/dwd_a.sql")
        #expect(template.config.isIncremental && template.config.isTable)
        #expect(template.config.uniqueKey == ["grp", "day"])
        #expect(template.isConditional)
        let pipeline = try FixturePipeline(models: ["dwd/dwd_a.sql": Self.model])
        defer { pipeline.remove() }
        let project = try PipelineProject.load(directory: pipeline.directory)
        let (staging, warehouse) = (RunSchemas(runID: .generate()), RunSchemas(prefix: "fin"))
        let runner = try PipelineRunner(project: project, schemas: staging, readSchemas: warehouse)
        let model = try #require(project.orderedModels().first)
        let whole = try runner.compile(model, .init(incremental: false))
        let increment = try runner.compile(model, .init(incremental: true))
        #expect(whole.contains("where true") && !whole.contains("_loaded_at >"))
        // {{ this }} is the table as it stands before the build: the warehouse's, not staging's.
        #expect(increment.contains("from \"fin_dwd\".\"dwd_a\")") && !increment.contains("where true"))
        // Both renderings keep the file's lines, so an error's line is the file's.
        #expect(whole.filter { $0 == "\n" }.count == increment.filter { $0 == "\n" }.count)
    }

    @Test func malformedBlocksAndConfigsNameTheirLine() throws {
        let open = try error("select 1\n{% if is_incremental() %}\nwhere x")
        #expect(open.line == 2)
        #expect(open.message.contains("never closed"))
        let stray = try error("select 1\n\n{% endif %}")
        #expect(stray.line == 3)
        #expect(try error("select 1 {% else %}").message.contains("without its"))
        #expect(try error("select 1 {% if is_incremental() %} a {% else %} b {% else %} c {% endif %}").message.contains("without its"))
        let keyless = try error("{{ config(materialized='incremental') }}\nselect 1")
        #expect(keyless.message.contains("needs unique_key"))
        let strategy = try error("{{ config(materialized='incremental', unique_key='a', incremental_strategy='merge') }}\nselect 1 as a")
        #expect(strategy.message.contains("must be 'delete+insert'"))
        // An index's type is its access method, as dbt-postgres takes it; a unique one is a B-tree.
        let hashed = try ModelTemplate(parsing: "{{ config(materialized='table', indexes=[{'columns': ['a'], 'type': 'hash'}]) }}\nselect 1 as a",
                                       file: "m.sql")
        #expect(hashed.config.indexes == [.init(columns: ["a"], unique: false, type: .hash)])
        #expect(hashed.config.indexes[0].create(on: "t").text == "CREATE INDEX ON t USING hash (\"a\")")
        let method = try error("{{ config(materialized='table', indexes=[{'columns': ['a'], 'type': 'bitmap'}]) }}\nselect 1 as a")
        #expect(method.message.contains("'type' is one of 'btree', 'hash'"), "\(method.message)")
        let uniqueHash = try error("{{ config(materialized='table', indexes=[{'columns': ['a'], 'unique': True, 'type': 'hash'}]) }}\nselect 1 as a")
        #expect(uniqueHash.message.contains("a unique index must be a btree"), "\(uniqueHash.message)")
        let inside = try error("select 1 {% if is_incremental() %}{{ config(materialized='table') }}{% endif %}")
        #expect(inside.message == "config() must come before the model's SQL")
        // `not is_incremental()` swaps the branches.
        let negated = try ModelTemplate(parsing: "select {% if not is_incremental() %}1{% else %}2{% endif %}", file: "m.sql")
        #expect(negated.pieces.contains(.incremental(then: [.text("2")], otherwise: [.text("1")])))
    }

    /// A whole build, then a batch: the rows of the batch's keys are replaced, the others kept, and
    /// only the partitions whose rows changed are recorded (a closed one as a restatement).
    @Test func aBatchReplacesTheRowsOfItsKeys() throws {
        let pipeline = try FixturePipeline(models: ["dwd/dwd_a.sql": Self.model])
        defer { pipeline.remove() }
        let project = try PipelineProject.load(directory: pipeline.directory)
        let model = try #require(project.orderedModels().first)
        let run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        defer { try? run.close() }
        let connection = run.connection
        try RunHistory.ensure(on: connection)
        let prefix = "inc" + String(UUID().uuidString.prefix(8)).lowercased()
        let warehouse = RunSchemas(prefix: prefix)
        defer {
            for layer in [Layer.ods, .dwd] { _ = try? connection.execute("DROP SCHEMA IF EXISTS \(identifier: warehouse.name(layer)) CASCADE") }
            _ = try? connection.execute("DELETE FROM recon_meta.partitions WHERE schema_prefix = \(prefix)")
        }
        let ods: SQL = "\(schema: warehouse.name(.ods), table: "ods_x")"
        try connection.execute("CREATE SCHEMA \(identifier: warehouse.name(.ods))")
        try connection.execute("CREATE SCHEMA \(identifier: warehouse.name(.dwd))")
        try connection.execute("CREATE TABLE \(ods) (grp text, day date, amount numeric(18,2), _loaded_at timestamptz)")
        try connection.execute("""
            INSERT INTO \(ods) VALUES ('a', '2026-10-01', 10.00, '2026-10-01 10:00Z'), ('b', '2026-10-01', 5.00, '2026-10-01 10:00Z'),
                                      ('a', '2026-10-02', 7.00, '2026-10-02 10:00Z')
            """)
        let runner = try PipelineRunner(project: project, schemas: run.schemas, readSchemas: warehouse)
        let publisher = Publisher(staging: run.schemas, target: warehouse, prefix: prefix, runID: "t", logger: quietLogger)
        let table = Publisher.Table(name: "dwd_a", layer: .dwd, partitionBy: "day")
        _ = try runner.build(on: connection, logger: quietLogger, layers: [.dwd], seeds: false)
        _ = try publisher.publish([table], closedBefore: #require(CalendarDate("2026-10-03")), on: connection)

        // Later: a row of group a on day 1 (closed) and a new group c on day 3.
        try connection.execute("""
            INSERT INTO \(ods) VALUES ('a', '2026-10-01', 1.50, '2026-10-03 09:00Z'), ('c', '2026-10-03', 2.00, '2026-10-03 09:00Z')
            """)
        let plan = MergePlan(models: ["dwd_a"]) { model, batch, connection in
            try publisher.merge(table, uniqueKey: model.config.uniqueKey, batch: batch, closedBefore: #require(CalendarDate("2026-10-03")), on: connection)
        }
        // In the run's transaction, as a build task merges (the batch is a temporary table dropped at commit).
        let report = try connection.transaction { connection in
            try runner.build(on: connection, logger: quietLogger, layers: [.dwd], seeds: false, merging: plan)
        }
        #expect(report.models.map(\.materialized) == ["incremental, merged"])
        #expect(report.models.first?.rows == 2)  // the batch: (a, day 1) and (c, day 3), not (b, day 1) or (a, day 2)
        let rows = try connection.query("""
            SELECT grp || ' ' || day || ' ' || amount FROM \(schema: warehouse.name(.dwd), table: model.name) ORDER BY grp, day
            """).rows.map { try $0.decode(String.self, at: 0) }
        #expect(rows == ["a 2026-10-01 11.50", "a 2026-10-02 7.00", "b 2026-10-01 5.00", "c 2026-10-03 2.00"])
        let changes = report.merged.map { "\($0.partition) \($0.rowsBefore)->\($0.rowsAfter) \($0.restatement)" }.sorted()
        #expect(changes == ["2026-10-01 2->2 true", "2026-10-03 0->1 false"])
        // The recorded digests are those a whole publish computes from the table.
        let recorded = try connection.query("""
            SELECT partition_key || ' ' || row_count || ' ' || digest FROM recon_meta.partitions
            WHERE schema_prefix = \(prefix) ORDER BY partition_key
            """).rows.map { try $0.decode(String.self, at: 0) }
        let computed = try connection.query("""
            SELECT day::text || ' ' || count(*) || ' ' || sum(hashtextextended(d::text, 0)::numeric)
            FROM \(schema: warehouse.name(.dwd), table: model.name) d GROUP BY day ORDER BY day
            """).rows.map { try $0.decode(String.self, at: 0) }
        #expect(recorded == computed)
    }
}

/// A warehouse's indexes are looked up before they are made: `CREATE INDEX IF NOT EXISTS` takes
/// the table's share lock first, so beside autovacuum (or any session holding a conflicting lock)
/// it waited for an index that was there.
@Suite("Warehouse indexes: one that exists is not made again, and no lock is waited for")
struct WarehouseIndexTests {
    @Test func anExistingIndexIsFoundWithoutTheTablesLock() throws {
        let schema = "wi_" + UUID().uuidString.prefix(8).lowercased()
        let owner = try SharedCluster.connect()
        defer { _ = try? owner.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE") }
        try owner.execute("CREATE SCHEMA \(identifier: schema)")
        try owner.execute("CREATE TABLE \(schema: schema, table: "t") (day date, amount numeric(18,2))")
        try owner.createIndexIfMissing("t_day_part", schema: schema, table: "t", columns: ["day"])
        // Another session holds the lock autovacuum takes (it conflicts with CREATE INDEX's).
        let vacuum = try SharedCluster.connect()
        try vacuum.execute("BEGIN")
        try vacuum.execute("LOCK TABLE \(schema: schema, table: "t") IN SHARE UPDATE EXCLUSIVE MODE")
        defer { _ = try? vacuum.execute("ROLLBACK") }
        try owner.execute("SET lock_timeout = '300ms'")
        try owner.createIndexIfMissing("t_day_part", schema: schema, table: "t", columns: ["day"])
        // A missing one is made, so it waits for that lock (and here gives up).
        #expect(throws: (any Error).self) {
            try owner.createIndexIfMissing("t_amount_idx", schema: schema, table: "t", columns: ["amount"])
        }
        try vacuum.execute("ROLLBACK")
        try owner.createIndexIfMissing("t_amount_idx", schema: schema, table: "t", columns: ["amount"])
        let indexes: Int = try owner.query("SELECT count(*)::int FROM pg_indexes WHERE schemaname = \(schema)").scalar()
        #expect(indexes == 2)
    }
}

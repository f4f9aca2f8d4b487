import Postgres

/// What a model's `{{ config(...) }}` asks for.
public struct ModelConfig: Sendable, Equatable {
    /// `table`, `view` or `incremental`.
    public var materialized = "table"
    /// An incremental model's key: a build's batch replaces the rows with the batch's keys
    /// (delete+insert, as dbt-postgres does).
    public var uniqueKey: [String] = []
    /// Indexes to create after a table is built.
    public var indexes: [IndexSpec] = []
    /// The column a distributed warehouse (Citus) distributes the table on; ignored on one
    /// PostgreSQL and by dbt-postgres (an unknown config key to it).
    public var distributedBy: String?
    /// The model whose shards this one's share (Citus `colocate_with`): joins on the
    /// distribution column stay on each worker. Default: Citus' own grouping by column type.
    public var colocateWith: String?
    /// A small table copied whole to every worker (Citus reference table): dimensions and seeds.
    public var reference = false
    /// True for an incremental model: built whole the first time, then merged batch by batch.
    public var isIncremental: Bool { materialized == "incremental" }
    /// True for what is stored as a table (tables and incremental models).
    public var isTable: Bool { materialized != "view" }

    /// The column whose values are the table's partitions (a business date or month) in a
    /// persistent warehouse: `recon run` replaces only the partitions whose rows changed, and
    /// reports a changed partition of a closed period as a restatement.
    public var partitionBy: String?
    /// False for tables whose closed partitions change in the normal course (match statuses
    /// moving from pending to matched): their changes are published but not called restatements.
    public var restatements = true
    /// What FundRecon itself reads the model as (the reports' breaks, statements ...).
    public var role: ModelRole?

    /// One index of `indexes=[{'columns': [...], 'unique': True, 'type': 'hash'}]`. An entry in
    /// parentheses is an expression, written into the index as it is (as dbt-postgres writes every
    /// entry): an index on a break's condition lets a query of the rare rows that meet it read them
    /// by the index. `type` is the access method, as dbt-postgres takes it (btree when absent).
    public struct IndexSpec: Sendable, Equatable {
        public var columns: [String]
        public var unique: Bool
        public var type: IndexType = .btree

        public init(columns: [String], unique: Bool, type: IndexType = .btree) {
            self.columns = columns
            self.unique = unique
            self.type = type
        }

        /// Each entry as SQL: a column name quoted, an expression in parentheses as the model wrote it.
        var terms: [SQL] {
            columns.map { $0.hasPrefix("(") && $0.hasSuffix(")") ? SQL(unsafeSQL: $0) : "\(identifier: $0)" }
        }

        /// `CREATE [UNIQUE] INDEX ON <relation> USING <type> (<terms>)`.
        func create(on relation: SQL) -> SQL {
            let unique: SQL = unique ? "UNIQUE " : ""
            return "CREATE \(unique)INDEX ON \(relation) USING \(SQL(unsafeSQL: type.rawValue)) (\(terms.joined(separator: ", ")))"
        }
    }

    /// PostgreSQL's index access methods, the values dbt-postgres takes for an index's `type`. A
    /// hash index holds a 4-byte hash of each key: for random keys looked up by equality (gateway
    /// references), about half a B-tree's size, so more of it stays in memory.
    public enum IndexType: String, Sendable, CaseIterable {
        case btree, hash, gist, spgist, gin, brin
    }
}

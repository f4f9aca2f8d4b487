import Postgres

/// How a build lays its tables out on a Citus coordinator (docs/scale-out.md): a model with
/// `distributed_by` is created empty, distributed on that column (co-located with `colocate_with`,
/// else with the other tables of that column's type), then filled by `INSERT ... SELECT`, so the
/// work on co-located shards runs on the workers; every other table model (`reference=true`, or
/// no distribution declared) is a reference table, copied to every worker, so it joins with any
/// distributed table. On one PostgreSQL (no citus extension, or no worker) nothing here runs.
struct Distribution {
    /// Workers registered with the coordinator this connection reaches; 0 on plain PostgreSQL.
    let workers: Int

    /// Whether the citus extension is in this database.
    static func citusInstalled(on connection: Connection) throws -> Bool {
        try connection.query("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')").scalar()
    }

    /// The workers `connection` reaches, with its session set up for building on them.
    static func detect(on connection: Connection) throws -> Distribution {
        let workers = try workers(on: connection)
        if workers > 0 {
            // Joins off the distribution column (a settlement line to its payment by gateway
            // reference) are repartitioned between workers instead of refused.
            try connection.execute("SELECT set_config('citus.enable_repartition_joins', 'on', false)")
            // Reference tables have a placement on the coordinator too; a transaction that read it
            // locally could not then write it in parallel. (So the coordinator's own data is read
            // over connections to itself: a build keeps none of its work in temporary tables.)
            try connection.execute("SELECT set_config('citus.enable_local_execution', 'off', false)")
            // Multi-shard writes go over one connection per worker, shard after shard (part of the
            // price docs/scale-out.md measures): a build in one transaction could not read back a
            // table written over several connections per worker, and an audit's build, committed
            // model by model, took 164.0 s in parallel mode against 142.6 s so on 2 cores (1M).
            try connection.execute("SELECT set_config('citus.multi_shard_modify_mode', 'sequential', false)")
            // A reference table is filled through the coordinator: the gateway side's models gather
            // their rows there (ads_gateway_recon a row per payment and refund, 4 GB at 10,000,000
            // orders a month), past Citus' 1 GB guard on intermediate results, which stopped the
            // 10M audit. Lifted for the build's session until that side is distributed
            // (docs/scale-out.md, "Left"); each check's transaction lifts it too (CheckEngine.readOnly).
            try connection.execute("SELECT set_config('citus.max_intermediate_result_size', '-1', false)")
        }
        return Distribution(workers: workers)
    }

    /// Workers registered with the coordinator `connection` reaches; 0 on plain PostgreSQL.
    static func workers(on connection: Connection) throws -> Int {
        guard try citusInstalled(on: connection) else { return 0 }
        return try connection.query("""
            SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND groupid <> 0 AND isactive
            """).scalar()
    }

    var isDistributed: Bool { workers > 0 }

    /// Whether Citus lays the model's table out here: every table model on a coordinator with workers.
    func lays(out config: ModelConfig) -> Bool {
        isDistributed && config.isTable
    }

    /// Distributes the empty `table` as its config says.
    func distribute(_ table: SQL, tableName: String, config: ModelConfig, schema: String, on connection: Connection) throws {
        if !config.reference, let column = config.distributedBy {
            try distribute(tableName, on: column, schema: schema, colocateWith: config.colocateWith, on: connection)
        } else {
            try connection.execute("SELECT create_reference_table(\(quoteIdentifier(schema) + "." + quoteIdentifier(tableName))::regclass)")
        }
    }

    /// Distributes the empty `table` on `column`, co-located with `colocateWith` of the same
    /// schema, else with the other tables of that column's type (a loaded source is distributed
    /// so: its rows then reach their shards as COPY sends them).
    func distribute(_ tableName: String, on column: String, schema: String, colocateWith: String? = nil,
                    on connection: Connection) throws {
        let qualified = quoteIdentifier(schema) + "." + quoteIdentifier(tableName)
        let colocate = colocateWith.map { quoteIdentifier(schema) + "." + quoteIdentifier($0) } ?? "default"
        try connection.execute("SELECT create_distributed_table(\(qualified)::regclass, \(column), colocate_with => \(colocate))")
    }

    /// An index Citus can build: a unique one must contain the distribution column, else it is
    /// built as a plain index (the checks still prove the key unique).
    func index(_ index: ModelConfig.IndexSpec, config: ModelConfig) -> ModelConfig.IndexSpec {
        guard isDistributed, index.unique, let column = config.distributedBy, !index.columns.contains(column) else { return index }
        return .init(columns: index.columns, unique: false, type: index.type)
    }

    /// How Citus lays out each of `relations` that it manages (keyed by the name as given; a plain
    /// table is absent), in one statement; empty on one PostgreSQL. Read from `pg_dist_partition`,
    /// which every role may read, not from the `citus_tables` view, which lists only the tables the
    /// role owns (the checks run as a role that may only read them).
    static func layouts(of relations: [String], on connection: Connection) throws -> [String: TableLayout] {
        guard !relations.isEmpty, try citusInstalled(on: connection) else { return [:] }
        var layouts: [String: TableLayout] = [:]
        for row in try connection.query("""
            SELECT r.name, p.partmethod::text, p.repmodel::text, coalesce(column_to_column_name(p.logicalrelid, p.partkey), ''),
                   p.colocationid
            FROM unnest(\(texts: relations)) AS r(name)
            JOIN pg_dist_partition p ON p.logicalrelid = to_regclass(r.name)
            """).rows {
            let (name, method, model): (String, String, String) = (try row.decode(at: 0), try row.decode(at: 1), try row.decode(at: 2))
            if method == "h" {
                layouts[name] = .distributed(column: try row.decode(at: 3), group: try row.decode(at: 4))
            } else if method == "n", model == "t" {
                layouts[name] = .reference
            }
        }
        return layouts
    }
}

/// How Citus lays a table out: hash-distributed on a column (two tables of one co-location
/// `group` keep equal values of their columns on one shard), or a reference table on every node.
enum TableLayout: Equatable, Sendable {
    case distributed(column: String, group: Int)
    case reference

    /// The distribution column and co-location group of a distributed table; nil for a reference table.
    var distribution: (column: String, group: Int)? {
        if case .distributed(let column, let group) = self { return (column, group) }
        return nil
    }
}

/// Where a run's distributed tables lie on a Citus cluster: per node, their shards, rows and bytes.
public struct NodePlacement: Sendable, Codable, Equatable {
    /// The node as Citus names it (`host:port`; an embedded node's host is its socket directory).
    public var node: String
    public var shards: Int
    public var rows: Int
    public var bytes: Int
}

extension Distribution {
    /// The placement of the distributed tables in `schemas`, per node, read after their rows were
    /// committed (each shard counted on its node); empty on one PostgreSQL.
    static func placement(schemas: [String], on connection: Connection) throws -> [NodePlacement] {
        guard try citusInstalled(on: connection) else { return [] }
        let tables = try connection.query("""
            SELECT t.table_name::text FROM citus_tables t JOIN pg_class c ON c.oid = t.table_name
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE t.citus_table_type = 'distributed' AND n.nspname = ANY(\(texts: schemas))
            ORDER BY 1
            """).rows.map { try $0.decode(String.self, at: 0) }
        var byNode: [String: NodePlacement] = [:]
        for table in tables {
            for row in try connection.query("""
                SELECT s.nodename || ':' || s.nodeport, count(*), coalesce(sum(r.result::bigint), 0), coalesce(sum(s.shard_size), 0)
                FROM run_command_on_shards(\(table)::regclass, 'SELECT count(*) FROM %s') r JOIN citus_shards s USING (shardid)
                WHERE r.success GROUP BY 1
                """).rows {
                let node: String = try row.decode(at: 0)
                var placed = byNode[node] ?? NodePlacement(node: node, shards: 0, rows: 0, bytes: 0)
                placed.shards += try row.decode(Int.self, at: 1)
                placed.rows += try row.decode(Int.self, at: 2)
                placed.bytes += try row.decode(Int.self, at: 3)
                byNode[node] = placed
            }
        }
        return byNode.values.sorted { $0.node < $1.node }
    }
}

import Postgres

/// How check tables are found: model names resolve to the run's schema of their layer; a
/// qualified `schema.table` is used as it is; without a run, unqualified names follow search_path.
public struct TableResolver: Sendable {
    /// The run's schemas, when checking a run.
    public var schemas: RunSchemas?
    /// Model and seed names and their layers (from the pipeline).
    public var modelLayers: [String: Layer]

    /// A resolver for a run built from a pipeline project.
    public init(schemas: RunSchemas?, project: PipelineProject?) {
        self.schemas = schemas
        var layers: [String: Layer] = [:]
        for model in project?.models ?? [] { layers[model.name] = model.layer }
        for seed in project?.seeds ?? [] { layers[seed.name] = .ods }
        modelLayers = layers
    }

    /// The quoted relation and the layer name a report shows, or nil when the name is unknown.
    func resolve(_ name: String) -> (relation: String, layer: String)? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 { return (quoteIdentifier(parts[0]) + "." + quoteIdentifier(parts[1]), parts[0]) }
        guard parts.count == 1 else { return nil }
        guard let schemas else { return (quoteIdentifier(name), "public") }
        let layer = modelLayers[name] ?? Layer.allCases.first { name.hasPrefix($0.rawValue + "_") }
            ?? (["merchants", "resellers", "vouchers", "orders", "payments", "refunds", "voucher_redemptions", "commissions",
                 "merchant_payouts"].contains(name) ? .oltp : nil)
        guard let layer else { return nil }
        return (quoteIdentifier(schemas.name(layer)) + "." + quoteIdentifier(name), layer.rawValue)
    }
}

/// Columns and their types of the tables checks use, read once before any check runs.
struct TableCatalog {
    var columns: [String: [String: String]] = [:]  // relation -> column -> type

    static func load(relations: Set<String>, connection: Connection) throws -> TableCatalog {
        var catalog = TableCatalog()
        for relation in relations.sorted() {
            let result = try connection.query("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                WHERE a.attrelid = to_regclass(\(relation)) AND a.attnum > 0 AND NOT a.attisdropped
                """)
            var columns: [String: String] = [:]
            for row in result.rows { columns[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1) }
            if !columns.isEmpty { catalog.columns[relation] = columns }
        }
        return catalog
    }
}

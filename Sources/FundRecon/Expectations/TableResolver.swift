import Postgres

/// How check tables are found: a model, seed or source table of the pipeline resolves to the
/// run's schema of its layer (the lists come from the pipeline project: its models, seeds and
/// `models/sources.yml`); a qualified `schema.table` is used as it is; without a run, unqualified
/// names follow the search_path.
public struct TableResolver: Sendable {
    /// The run's schemas, when checking a run.
    public var schemas: RunSchemas?
    /// Model, seed and source table names and their layers.
    public var layers: [String: Layer]

    /// A resolver for a run built from a pipeline project.
    public init(schemas: RunSchemas?, project: PipelineProject?) {
        self.schemas = schemas
        var layers: [String: Layer] = [:]
        for (source, tables) in project?.sources ?? [:] {
            guard let layer = Layer(rawValue: source) else { continue }
            for table in tables { layers[table] = layer }
        }
        for seed in project?.seeds ?? [] { layers[seed.name] = .ods }
        for model in project?.models ?? [] { layers[model.name] = model.layer }
        self.layers = layers
    }

    /// The layer a model, seed or source table of the run is in (by the pipeline's lists, or by
    /// the layer its name starts with); nil for other names and when no run is checked.
    func layer(of name: String) -> Layer? {
        guard schemas != nil else { return nil }
        return layers[name] ?? Layer.allCases.first { name.hasPrefix($0.rawValue + "_") }
    }

    /// The quoted relation and the layer a report shows, or nil when the name is unknown. A name
    /// the pipeline does not list but that starts with a layer (`dwd_...`) is looked for in that
    /// layer's schema: a model's name starts with its layer.
    func resolve(_ name: String) -> (relation: SQL, layer: CheckLayer)? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 { return ("\(schema: parts[0], table: parts[1])", CheckLayer(name: parts[0])) }
        guard parts.count == 1 else { return nil }
        guard let schemas else { return ("\(identifier: name)", .schema("public")) }
        guard let layer = layer(of: name) else { return nil }
        return ("\(schema: schemas.name(layer), table: name)", .layer(layer))
    }
}

/// A model: one SELECT in `models/<layer>/<name>.sql`, materialized into its layer's schema.
public struct Model: Sendable {
    /// The model's name (its file name without `.sql`); it starts with its layer.
    public let name: String
    /// The layer, from its folder.
    public let layer: Layer
    /// The file, relative to the pipeline folder.
    public let file: String
    let template: ModelTemplate

    /// What `config()` asked for.
    public var config: ModelConfig { template.config }
    /// Models and seeds this one reads.
    public var refs: [String] { template.refs }
}

/// One model's (or seed's) outcome in a build.
public struct ModelRun: Sendable, Codable {
    public var model: String
    public var layer: String
    public var materialized: String
    public var rows: Int
    public var durationMS: Int
}

/// What a build did.
public struct BuildReport: Sendable, Codable {
    /// Every seed and model, in the order built.
    public var models: [ModelRun] = []
    /// The vars the build used.
    public var vars: [String: String] = [:]
    /// Every model statement in the order sent, when the build was asked to keep them.
    public var statements: [String] = []
    /// The partitions incremental models' merges changed (a persistent warehouse's build).
    public var merged: [PartitionChange] = []

    /// The statements are the build's SQL, not its report: they go to their own file.
    enum CodingKeys: String, CodingKey {
        case models, vars
    }

    public init(models: [ModelRun] = [], vars: [String: String] = [:]) {
        self.models = models
        self.vars = vars
    }
}

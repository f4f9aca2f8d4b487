import Postgres

/// The warehouse tables the reports read, found by the roles their models declare
/// (`config(role='breaks')` ...): a pipeline without one is an error naming the role and the
/// model that plays it in the shipped pipeline, before any database work.
public struct ReportTables: Sendable {
    /// Each role's model and its layer.
    let models: [ModelRole: Model]

    /// The roles the HTML and XLSX reports read.
    static let roles: [ModelRole] = [.breaks, .gatewayDaily, .merchantHourly, .merchantDaily, .merchantBalance,
                                     .monthlyStatement, .merchants]

    public init(project: PipelineProject) throws {
        var models: [ModelRole: Model] = [:]
        for role in ReportTables.roles { models[role] = try project.require(role, for: "the HTML and XLSX reports") }
        // Optional: a pipeline without a bridge model still gets every other figure.
        models[.gatewayBridge] = project.model(for: .gatewayBridge)
        self.models = models
    }

    /// The tables as quoted relations in a run's (or a warehouse's) schemas.
    public func located(in schemas: RunSchemas) -> Located {
        func relation(_ role: ModelRole) -> SQL {
            guard let model = models[role] else { return "" }
            return "\(schema: schemas.name(model.layer), table: model.name)"
        }
        return Located(breaks: relation(.breaks), gatewayDaily: relation(.gatewayDaily), merchantHourly: relation(.merchantHourly),
                       merchantDaily: relation(.merchantDaily), merchantBalance: relation(.merchantBalance),
                       monthlyStatement: relation(.monthlyStatement), merchants: relation(.merchants),
                       gatewayBridge: models[.gatewayBridge] == nil ? nil : relation(.gatewayBridge))
    }

    /// The report tables of one warehouse, as quoted `schema.table` relations.
    public struct Located: Sendable {
        public var breaks, gatewayDaily, merchantHourly, merchantDaily, merchantBalance, monthlyStatement, merchants: SQL
        /// The gateway bridge, when the pipeline has one.
        public var gatewayBridge: SQL?
    }
}

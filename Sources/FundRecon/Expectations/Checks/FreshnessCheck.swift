import Postgres

/// `freshness`: fails when the newest value of `column` is older than `max_age` before the run's as_of.
struct FreshnessCheck: CheckType {
    static let name = "freshness"
    static let keys: Set<String> = ["column", "max_age"]
    let column: String
    let maxAgeSeconds: Int

    init(_ fields: FieldReader) throws {
        column = try fields.string("column")
        maxAgeSeconds = try fields.duration("max_age")
    }

    func columns(table: String) -> [(table: String, columns: [String])] { [(table, [column])] }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        .failingRows(query: """
            SELECT * FROM (SELECT max(\(PlanContext.column(column))) AS newest, current_setting('recon.as_of')::timestamptz AS as_of
                           FROM \(context.relation) WHERE \(context.filter)) f
            WHERE f.newest IS NULL OR f.newest::timestamptz < f.as_of - interval '\(integer: maxAgeSeconds) seconds'
            """, count: "count(*)", observed: nil)
    }
}

import Foundation
import Postgres

/// `sql`: the author's query returns the failing rows, one failing row each. Run as written: its
/// count is taken with the query's own plan. Its layer is `layer:` when given, else the highest
/// layer among the models the query names.
struct SQLCheck: CheckType {
    static let name = "sql"
    static let keys: Set<String> = ["query", "layer", "amount"]
    static let table = TableSource.optional
    static let scoping = PeriodScoping.refused("a sql check cannot be scoped by period (its query is run as written)")
    let query: String
    let declaredLayer: Layer?
    /// The column of the query's rows that holds each row's money (`amount:`).
    let amount: String?

    init(_ fields: FieldReader) throws {
        query = try fields.string("query").trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
        amount = try fields.optionalString("amount")
        declaredLayer = try fields.optionalString("layer").map { name in
            guard let layer = Layer(rawValue: name) else {
                throw fields.failure("layer must be one of \(Layer.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return layer
        }
    }

    func columns(table: String) -> [(table: String, columns: [String])] { [] }

    var stake: SQL? { amount.map { "abs(\(PlanContext.money($0)))" } }
    /// The query lists failing rows only: there is no checked total.
    var measuresTotal: Bool { false }

    /// The declared layer, or the highest layer among the models and tables the query names.
    func layer(resolving resolver: TableResolver) -> CheckLayer? {
        if let declaredLayer { return .layer(declaredLayer) }
        let words = query.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init)
        let named = words.compactMap { resolver.layer(of: $0) }
        return named.max { Layer.allCases.firstIndex(of: $0)! < Layer.allCases.firstIndex(of: $1)! }.map(CheckLayer.layer)
    }

    func plan(_ context: PlanContext) throws -> CheckPlan {
        .failingRows(query: SQL(unsafeSQL: query), count: "count(*)", observed: nil)
    }
}

import Postgres

/// One check made ready to run: its table resolved, its layer known, its plan built.
struct CompiledCheck: Sendable {
    let spec: CheckSpec
    /// The check's own table, quoted (empty for a `sql` check without one).
    let relation: SQL
    let layer: CheckLayer
    let plan: CheckPlan
    /// The table results name: the declared one, or, for a `sql` check without one, its layer.
    let table: String
    /// The checked total per currency (relative materiality only).
    var checkedTotal: SQL? = nil

    /// The SQL shown in reports: the statement that lists every failing row.
    var displaySQL: SQL {
        switch plan {
        case .rows(let predicate, let extras, _):
            return "SELECT *\(CompiledCheck.extraColumns(extras)) FROM \(relation)\nWHERE \(predicate)"
        case .failingRows(let query, _, _): return query
        case .grouped(let grouped):
            switch grouped.output {
            case .failingRows: return grouped.alone
            case .classified(_, _, let display): return display(grouped.groupings.map(\.alone))
            }
        }
    }

    /// `, extras` after a select list's `*`, or nothing.
    static func extraColumns(_ extras: SQL?) -> SQL {
        guard let extras else { return "" }
        return ", \(extras)"
    }

    /// How heavy the check's statement is (`CheckType.weight`).
    var weight: Int { Swift.type(of: spec.definition).weight }
}

import Foundation
import Postgres

/// One type of check of the expectations language (EXPECTATIONS.md "Check types"): its name and
/// keys, how it reads its spec (errors name the line), what it reads, and the plan it is evaluated
/// by. One file per type under `Checks/`; adding a type is that file and one line in
/// `CheckTypes.all`: the parser, the engine and the reports know types only through this protocol.
protocol CheckType: Sendable {
    /// The `type:` name.
    static var name: String { get }
    /// The keys the type takes beside the common ones (`id`, `type`, `table`, `where` ...).
    static var keys: Set<String> { get }
    /// Where the check's table comes from.
    static var table: TableSource { get }
    /// What a `period:` key means for the type.
    static var scoping: PeriodScoping { get }
    /// How heavy its set-level statement is: the heavier types are taken first.
    static var weight: Int { get }

    /// Reads the type's own keys.
    init(_ fields: FieldReader) throws

    /// For types whose table comes from their sides: the main side's table.
    var mainTable: String? { get }
    /// The tables the check reads besides its own.
    var otherTables: [String] { get }
    /// The columns the check names, by table, checked against the catalog before anything runs
    /// (the SQL fragments authors write are not parsed).
    func columns(table: String) -> [(table: String, columns: [String])]
    /// For scoping `.own`: the column that places the check's rows in time.
    var ownPeriod: PeriodColumn? { get }
    /// The layer the check's results are reported under when it has no table of its own.
    func layer(resolving resolver: TableResolver) -> CheckLayer?
    /// How the check is evaluated.
    func plan(_ context: PlanContext) throws -> CheckPlan
    /// The money at stake in one failing row, an expression over `f`, the row as `jsonb`
    /// (EXPECTATIONS.md "Materiality"); nil: the type does not measure money.
    var stake: SQL? { get }
    /// Whether the type knows the total it checks (relative materiality needs it).
    var measuresTotal: Bool { get }
    /// The checked total per currency: a query of rows (currency text, total numeric).
    func checkedTotal(_ context: PlanContext) -> SQL?
}

extension CheckType {
    static var table: TableSource { .required }
    static var scoping: PeriodScoping { .byColumn }
    static var weight: Int { 2 }
    var mainTable: String? { nil }
    var otherTables: [String] { [] }
    var ownPeriod: PeriodColumn? { nil }
    func layer(resolving resolver: TableResolver) -> CheckLayer? { nil }
    var stake: SQL? { nil }
    var measuresTotal: Bool { stake != nil }
    func checkedTotal(_ context: PlanContext) -> SQL? { nil }
}

extension PlanContext {
    /// A row's `jsonb` field as a number (NULL when absent).
    static func money(_ field: String) -> SQL { "((f ->> \(literal: field))::numeric)" }

    /// `currency` of `table` as text when it has one, else '' (one bucket).
    func currency(of table: String) -> SQL {
        catalog.columns[relation(table).text]?["currency"] == nil ? "''::text" : "currency::text"
    }

    /// The sum of absolute values of `measure` per currency over `table`'s rows the check reads.
    func total(of measure: SQL, in table: String, filter: SQL) -> SQL {
        "SELECT \(currency(of: table)), coalesce(sum(abs(\(measure))), 0) FROM \(relation(table)) WHERE \(filter) GROUP BY 1"
    }
}

/// Where a check type's table comes from.
enum TableSource: Sendable {
    /// The `table` key, which it needs.
    case required
    /// The `table` key when given; the check reads what its own SQL names.
    case optional
    /// Its sides (`left`/`right`, `fine`/`coarse`): a `table` key is refused.
    case sides
}

/// What a `period:` key means for a check type in a scoped run (`recon run`).
enum PeriodScoping: Sendable {
    /// `period: column` (or `{column, grain}`) keeps the rows of the run's period.
    case byColumn
    /// The type places its rows in time with a key of its own (continuity's `period`) and scopes itself.
    case own
    /// A `period:` key is an error, with this reason.
    case refused(String)
}

/// How one check is evaluated.
enum CheckPlan: Sendable {
    /// A row fails when `predicate` holds (the check's filter folded in). Evaluated in one scan
    /// with the other row-level checks of its table and scope; `extras` are columns its sample adds
    /// to the row's own; `scope`, in a scoped run, keeps the period's rows (also in `predicate`),
    /// so that the scan reads those by the period column's index instead of the whole table.
    case rows(predicate: SQL, extras: SQL?, scope: SQL?)
    /// A query returning the failing rows (dbt's way), counted by `count` over them; `observed`
    /// is a one-row query of figures reported whatever the outcome.
    case failingRows(query: SQL, count: SQL, observed: SQL?)
    /// A statement over groupings of tables (`Grouping`), which it may share with other checks:
    /// failing rows, or the figures of each class and the first failing rows (reconcile).
    case grouped(GroupedPlan)
}

/// What a check type's plan is made from: the resolved tables and their columns, the check's filter.
struct PlanContext: Sendable {
    /// The check.
    let spec: CheckSpec
    /// The check's own table, quoted (empty for a `sql` check without one).
    let relation: SQL
    /// Every table the check reads, by the name it was given.
    let relations: [String: SQL]
    /// The column types of every table, by quoted relation.
    let catalog: TableCatalog
    /// The business time zone (hour -> day roll-ups).
    let zone: String
    /// A scoped run's period.
    let scope: CheckScope?
    /// The check's `where` alone.
    let rowFilter: SQL
    /// In a scoped run, the predicate keeping the rows of the period (by the check's `period`).
    let inPeriod: SQL?

    /// The rows the check looks at: its `where`, and in a scoped run the rows of the period.
    var filter: SQL { inPeriod.map { "\(rowFilter) AND \($0)" } ?? rowFilter }

    /// In a scoped run, the values of `columns` on the rows the check looks at (a subquery for an
    /// uncorrelated `IN`): the keys whose every row a scoped `unique` reads.
    func periodKeys(_ columns: [String]) -> SQL? {
        inPeriod.map { _ in "SELECT \(PlanContext.columns(columns)) FROM \(relation) WHERE \(filter)" }
    }

    /// A table the check reads, quoted.
    func relation(_ table: String) -> SQL { relations[table] ?? "\(identifier: table)" }

    /// The SQL type of a column of a table (`date` when the catalog does not know it).
    func type(of column: String, in table: String) -> String {
        catalog.columns[relation(table).text]?[column] ?? "date"
    }

    /// A row-level plan: a row fails when it passes the filter and `condition` holds.
    func rows(failingWhen condition: SQL, extras: SQL? = nil) -> CheckPlan {
        .rows(predicate: "(\(filter) AND (\(condition)))", extras: extras, scope: inPeriod)
    }

    /// The check's tolerance, as a number.
    var tolerance: SQL { "\(decimal: spec.tolerance)" }

    /// A quoted column, of the table `alias` names when given.
    static func column(_ name: String, of alias: SQL? = nil) -> SQL {
        alias.map { "\($0).\(identifier: name)" } ?? "\(identifier: name)"
    }

    /// Quoted columns separated by commas.
    static func columns(_ names: [String], of alias: SQL? = nil) -> SQL {
        names.map { column($0, of: alias) }.joined(separator: ", ")
    }

    /// An author's SQL fragment (`where`, `expression`, `lhs` ...): SQL by contract, in parentheses.
    static func fragment(_ text: String) -> SQL { "(\(unsafeSQL: text))" }

    /// The fragments among `texts` that are plain column names (the others are expressions, not parsed).
    static func columnNames(_ texts: [String?]) -> [String] {
        texts.compactMap { $0 }.filter { $0.range(of: "^[a-z_][a-z0-9_]*$", options: .regularExpression) != nil }
    }
}

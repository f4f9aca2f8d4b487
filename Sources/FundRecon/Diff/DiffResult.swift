import Foundation

/// What a pipeline change does to a warehouse: every model's structure, rows and money, the
/// checks whose outcome moved, the lineage that explains it, and the closed periods it touches.
/// `reports/diff.json` is this value; the Markdown, HTML and JUnit are written from it.
public struct DiffResult: Sendable, Codable {
    /// What was compared with what (`base a1b2c3d`, `golden/basic expected`).
    public var base: String
    public var head: String
    /// The dataset both sides were built from.
    public var dataset: String = ""
    /// Changes at or before this date are changes to a closed period.
    public var closedThrough: String?
    public var models: [ModelDiff] = []
    public var checks: [CheckChange] = []
    /// Every check of either side with both outcomes (`checks` holds those that moved).
    public var checkOutcomes: [CheckChange] = []
    /// Vars whose value differs (`name: base -> head`).
    public var vars: [String] = []
    /// Seeds whose file differs.
    public var seeds: [String] = []
    /// The model holding every break (`config(role='breaks')`): its added rows are new breaks,
    /// its removed rows breaks the change resolves.
    public var breaksModel: String?
    /// Build and diff times, in milliseconds.
    public var timings: [String: Int] = [:]
    /// The run ids of the two sides (`head`, `base`): their schemas are `rc_<id>_*` while the
    /// diff runs, and after it with `--keep-schemas`.
    public var runs: [String: String] = [:]

    enum CodingKeys: String, CodingKey {
        case base, head, dataset, models, checks, vars, seeds, timings, runs
        case checkOutcomes = "check_outcomes"
        case closedThrough = "closed_through"
        case breaksModel = "breaks_model"
    }

    public init(base: String, head: String) {
        self.base = base
        self.head = head
    }

    /// Models whose structure or rows differ.
    public var changedModels: [ModelDiff] { models.filter(\.isChanged) }

    /// The breaks model's comparison, when it was compared.
    public var breaks: ModelDiff? { models.first { $0.model == breaksModel && $0.status == .compared } }

    /// Every money change of every model in a period at or before `closedThrough`.
    public var closedChanges: [ModelDiff] { models.filter { $0.closedRows > 0 || !$0.closedMoney.isEmpty } }
}

/// One model compared.
public struct ModelDiff: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Built by both and compared.
        case compared
        /// Same SQL, vars and inputs on both sides: equal by construction, not scanned.
        case sameInputs = "same_inputs"
        /// Only in the head pipeline.
        case added
        /// Only in the base pipeline.
        case removed
    }

    public var model: String
    public var layer: String
    public var status: Status
    /// The model's own file differs between the two pipelines.
    public var sqlChanged = false
    /// For a changed model: the models upstream that it reads (directly or through others) whose
    /// file changed, nearest first.
    public var causes: [String] = []
    /// The key rows are matched by, and where it came from; empty keys: compared as a multiset.
    public var key: [String] = []
    public var keySource = ""
    public var columnsAdded: [String] = []
    public var columnsRemoved: [String] = []
    /// `column: base type -> head type`.
    public var typeChanges: [String] = []
    public var rowsBase = 0
    public var rowsHead = 0
    public var added = 0
    public var removed = 0
    public var changed = 0
    /// Rows changed per column (keyed comparisons).
    public var changedColumns: [String: Int] = [:]
    /// A few rows of each kind, in key order.
    public var samples: [RowChange] = []
    /// The column that places a row in a period (partition_by, else biz_date), when there is one.
    public var partitionColumn: String?
    /// Rows added, removed or changed in a period at or before the closed date.
    public var closedRows = 0
    /// Money changes in closed periods (dimension `day` or `month`).
    public var closedMoney: [MoneyChange] = []
    /// The change of every money column's total, per currency and per period, month and merchant.
    public var money: [MoneyChange] = []
    /// The comparison's time.
    public var durationMS = 0

    enum CodingKeys: String, CodingKey {
        case model, layer, status, causes, key, added, removed, changed, samples, money
        case sqlChanged = "sql_changed"
        case keySource = "key_source"
        case columnsAdded = "columns_added"
        case columnsRemoved = "columns_removed"
        case typeChanges = "type_changes"
        case rowsBase = "rows_base"
        case rowsHead = "rows_head"
        case changedColumns = "changed_columns"
        case partitionColumn = "partition_column"
        case closedRows = "closed_rows"
        case closedMoney = "closed_money"
        case durationMS = "duration_ms"
    }

    public init(model: String, layer: String, status: Status) {
        self.model = model
        self.layer = layer
        self.status = status
    }

    public var hasRowChanges: Bool { added + removed + changed > 0 }
    public var hasStructureChanges: Bool { !columnsAdded.isEmpty || !columnsRemoved.isEmpty || !typeChanges.isEmpty }
    public var isChanged: Bool { status == .added || status == .removed || hasRowChanges || hasStructureChanges }

    /// One line: what changed.
    public var summary: String {
        switch status {
        case .added: return "added (\(rowsHead) rows)"
        case .removed: return "removed (\(rowsBase) rows)"
        case .sameInputs: return "same SQL and inputs"
        case .compared:
            var parts: [String] = []
            if !columnsAdded.isEmpty { parts.append("columns added: " + columnsAdded.joined(separator: ", ")) }
            if !columnsRemoved.isEmpty { parts.append("columns removed: " + columnsRemoved.joined(separator: ", ")) }
            if !typeChanges.isEmpty { parts.append("types changed: " + typeChanges.joined(separator: ", ")) }
            if hasRowChanges { parts.append("+\(added) -\(removed) ~\(changed) rows") }
            return parts.isEmpty ? "no difference" : parts.joined(separator: "; ")
        }
    }
}

/// One row added, removed or changed.
public struct RowChange: Sendable, Codable {
    public enum Kind: String, Sendable, Codable { case added, removed, changed }
    public var kind: Kind
    /// The key's values (for a multiset comparison, the whole row).
    public var key: [String: String]
    /// Changed rows: each changed column with both values, and the difference of numbers.
    public var columns: [ColumnChange] = []
    /// Added and removed rows: the row.
    public var row: [String: String] = [:]

    public var description: String {
        let keyText = key.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        switch kind {
        case .added, .removed:
            return "\(kind.rawValue) \(keyText): " + row.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        case .changed:
            return "changed \(keyText): " + columns.map(\.description).joined(separator: ", ")
        }
    }
}

/// One column of a changed row.
public struct ColumnChange: Sendable, Codable {
    public var column: String
    public var base: String?
    public var head: String?
    /// head - base, for numbers.
    public var difference: String?

    public var description: String {
        "\(column) \(base ?? "NULL") -> \(head ?? "NULL")" + (difference.map { " (\($0.hasPrefix("-") ? "" : "+")\($0))" } ?? "")
    }
}

/// The change of one money column's total in one currency and one group.
public struct MoneyChange: Sendable, Codable {
    /// `total`, `month`, `day` (the partition column's value) or `merchant`.
    public var dimension: String
    /// The month, day or merchant ("" for the total).
    public var value: String
    public var currency: String
    public var column: String
    public var base: String
    public var head: String
    /// head - base, exact.
    public var delta: String
}

/// A check whose outcome differs between the base and the head.
public struct CheckChange: Sendable, Codable {
    public var id: String
    /// `pass`, `fail` ..., or `absent` when the check is not in that side's expectations.
    public var base: String
    public var head: String
    public var baseFailingRows: Int
    public var headFailingRows: Int

    enum CodingKeys: String, CodingKey {
        case id, base, head
        case baseFailingRows = "base_failing_rows"
        case headFailingRows = "head_failing_rows"
    }

    /// The head fails (or cannot be evaluated) where the base did not, or fails on more rows.
    public var isWorse: Bool {
        let bad: Set<String> = ["fail", "error"]
        return (bad.contains(head) && !bad.contains(base)) || (bad.contains(head) && headFailingRows > baseFailingRows)
    }

    public var description: String {
        if base == head { return "\(id): \(head), failing rows \(baseFailingRows) -> \(headFailingRows)" }
        return "\(id): \(base) -> \(head)" + (headFailingRows > 0 || baseFailingRows > 0 ? " (failing rows \(baseFailingRows) -> \(headFailingRows))" : "")
    }
}

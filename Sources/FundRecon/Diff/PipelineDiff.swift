import Foundation
import Postgres

/// One built side of a diff: its pipeline, the schemas it was built in, its checks' outcomes.
struct BuiltSide {
    var runner: PipelineRunner
    var schemas: RunSchemas
    var checks: [CheckResult]
    var expectations: ExpectationsFile?
    var project: PipelineProject { runner.project }
}

/// Compares two pipelines built from the same sources: model by model (structure, rows, money),
/// check by check, and the lineage from the models whose files changed to every model they moved.
enum PipelineDiff {
    /// Compares every model on `workers` connections at once (each comparison is one table pair
    /// on one connection), then the checks and the lineage.
    static func compare(
        base: BuiltSide, head: BuiltSide, connections: RunConnections, workers: Int = 2, closedThrough: CalendarDate?,
        compareAll: Bool, into result: inout DiffResult, progress: @Sendable (String) -> Void
    ) throws {
        let baseModels = Dictionary(uniqueKeysWithValues: base.project.models.map { ($0.name, $0) })
        let headModels = Dictionary(uniqueKeysWithValues: head.project.models.map { ($0.name, $0) })
        let baseIdentities = try base.runner.identities()
        let headIdentities = try head.runner.identities()
        result.vars = Set(base.runner.vars.keys).union(head.runner.vars.keys).sorted().compactMap { name in
            let (old, new) = (base.runner.vars[name], head.runner.vars[name])
            return old == new ? nil : "\(name): \(old.map { "'\($0)'" } ?? "(absent)") -> \(new.map { "'\($0)'" } ?? "(absent)")"
        }
        let baseSeeds = Dictionary(uniqueKeysWithValues: base.project.seeds.map { ($0.name, fileText(base.project, $0.file)) })
        let headSeeds = Dictionary(uniqueKeysWithValues: head.project.seeds.map { ($0.name, fileText(head.project, $0.file)) })
        result.seeds = Set(baseSeeds.keys).union(headSeeds.keys).sorted().filter { baseSeeds[$0] != headSeeds[$0] }
        result.closedThrough = closedThrough?.description
        result.breaksModel = head.project.model(for: .breaks)?.name

        // Every model's status first; then the work: a comparison, or a count of a model on one side.
        let ordered = try head.project.orderedModels().map(\.name)
            + base.project.models.map(\.name).filter { headModels[$0] == nil }.sorted()
        var jobs: [Job] = []
        var diffs: [ModelDiff] = []
        for name in ordered {
            let (old, new) = (baseModels[name], headModels[name])
            let layer = (new ?? old)!.layer
            let status: ModelDiff.Status = old == nil ? .added : new == nil ? .removed
                : (!compareAll && baseIdentities[name] == headIdentities[name]) ? .sameInputs : .compared
            var diff = ModelDiff(model: name, layer: layer.rawValue, status: status)
            if let old, let new { diff.sqlChanged = fileText(base.project, old.file) != fileText(head.project, new.file) }
            let relations = (base: TableDiff.Relation(schema: base.schemas.name(layer), table: name),
                             head: TableDiff.Relation(schema: head.schemas.name(layer), table: name))
            switch status {
            case .sameInputs: break
            case .added: jobs.append(Job(index: diffs.count, work: .count(relations.head, head: true)))
            case .removed: jobs.append(Job(index: diffs.count, work: .count(relations.base, head: false)))
            case .compared:
                let key = Self.key(of: new!, base: old, expectations: [head.expectations, base.expectations])
                jobs.append(Job(index: diffs.count, work: .compare(relations.base, relations.head, key, new!.config.partitionBy ?? "biz_date")))
            }
            diffs.append(diff)
        }
        let done = try run(jobs, on: diffs, connections: connections, workers: workers, closedThrough: closedThrough,
                           progress: progress)
        result.models = done
        explainLineage(&result, head: head.project, base: base.project)
        result.checkOutcomes = compareChecks(base: base.checks, head: head.checks, all: true)
        result.checks = compareChecks(base: base.checks, head: head.checks)
    }

    /// One piece of work on one model.
    struct Job: Sendable {
        enum Work: Sendable {
            case count(TableDiff.Relation, head: Bool)
            case compare(TableDiff.Relation, TableDiff.Relation, TableDiff.Key, String?)
        }
        var index: Int
        var work: Work
    }

    /// Runs the jobs on `workers` connections, each taking the next job when it is free.
    static func run(
        _ jobs: [Job], on diffs: [ModelDiff], connections: RunConnections, workers: Int, closedThrough: CalendarDate?,
        progress: @Sendable (String) -> Void
    ) throws -> [ModelDiff] {
        final class Shared: @unchecked Sendable {
            // Guarded by `lock`.
            let lock = NSLock()
            var diffs: [ModelDiff]
            var next = 0
            var failure: (any Error)?
            init(_ diffs: [ModelDiff]) { self.diffs = diffs }
        }
        let shared = Shared(diffs)
        let total = jobs.count
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, jobs.count))) { worker in
            do {
                let table = TableDiff(connection: try connections.connect("diff-\(worker + 1)"))
                while true {
                    let taken: (Int, Job, ModelDiff)? = shared.lock.withLock {
                        guard shared.failure == nil, shared.next < jobs.count else { return nil }
                        defer { shared.next += 1 }
                        let job = jobs[shared.next]
                        return (shared.next + 1, job, shared.diffs[job.index])
                    }
                    guard let (number, job, start) = taken else { return }
                    var diff = start
                    let clock = ContinuousClock.now
                    switch job.work {
                    case .count(let relation, let isHead):
                        if isHead { diff.rowsHead = try table.count(relation) } else { diff.rowsBase = try table.count(relation) }
                    case .compare(let base, let head, let key, let partition):
                        try table.compare(base: base, head: head, key: key, partition: partition, closedThrough: closedThrough, into: &diff)
                    }
                    diff.durationMS = milliseconds(since: clock)
                    progress("diff \(number)/\(total): \(diff.model) \(diff.summary) in \(diff.durationMS) ms")
                    shared.lock.withLock { shared.diffs[job.index] = diff }
                }
            } catch {
                shared.lock.withLock { if shared.failure == nil { shared.failure = error } }
            }
        }
        if let failure = shared.failure { throw failure }
        return shared.diffs
    }

    /// The key rows of `model` are matched by: its `unique_key` config, a unique index it
    /// declares, or the columns of a `unique` check on it; none: a multiset. The key is enforced
    /// when both sides' models declare a unique index on exactly its columns (`base` nil: the
    /// stored side of golden, which came from the same declaration).
    static func key(of model: Model, base: Model?, expectations: [ExpectationsFile?]) -> TableDiff.Key {
        var key = TableDiff.Key(columns: [], source: "no key: compared as a multiset")
        if !model.config.uniqueKey.isEmpty {
            key = TableDiff.Key(columns: model.config.uniqueKey, source: "unique_key config")
        } else if let index = model.config.indexes.first(where: \.unique) {
            key = TableDiff.Key(columns: index.columns, source: "unique index config")
        } else {
            search: for file in expectations.compactMap({ $0 }) {
                for check in file.checks {
                    guard let unique = check.definition as? UniqueCheck,
                          check.table.split(separator: ".").last.map(String.init) == model.name else { continue }
                    key = TableDiff.Key(columns: unique.columns, source: "unique check \(check.id)")
                    break search
                }
            }
        }
        func enforces(_ model: Model) -> Bool {
            model.config.isTable && model.config.indexes.contains { $0.unique && Set($0.columns) == Set(key.columns) }
        }
        key.enforced = !key.columns.isEmpty && enforces(model) && (base.map(enforces) ?? true)
        return key
    }

    /// For every changed model, the models upstream whose file changed (nearest first); a seed or
    /// var that changed is named when no model is and the model's own file did not change.
    static func explainLineage(_ result: inout DiffResult, head: PipelineProject, base: PipelineProject) {
        // The head's graph, and the base's for models the head removed.
        let refs = Dictionary(head.models.map { ($0.name, $0.refs) } + base.models.map { ($0.name, $0.refs) },
                              uniquingKeysWith: { headRefs, _ in headRefs })
        let byName = Dictionary(result.models.map { ($0.model, $0) }, uniquingKeysWith: { a, _ in a })
        for index in result.models.indices where result.models[index].isChanged {
            var causes: [String] = []
            var queue = refs[result.models[index].model] ?? []
            var seen: Set<String> = []
            while !queue.isEmpty {
                let name = queue.removeFirst()
                guard seen.insert(name).inserted else { continue }
                if let upstream = byName[name], upstream.sqlChanged || upstream.status == .added { causes.append(name) }
                if result.seeds.contains(name) { causes.append("seed \(name)") }
                queue += refs[name] ?? []
            }
            if causes.isEmpty && !result.models[index].sqlChanged && !result.vars.isEmpty { causes = result.vars.map { "var " + $0 } }
            result.models[index].causes = causes
        }
    }

    /// Checks whose status or failing-row count differs, and checks on one side only.
    static func compareChecks(base: [CheckResult], head: [CheckResult], all: Bool = false) -> [CheckChange] {
        let before = Dictionary(base.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(head.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return Set(before.keys).union(after.keys).sorted().compactMap { id in
            let (old, new) = (before[id], after[id])
            guard all || old?.status != new?.status || old?.failingRows != new?.failingRows else { return nil }
            return CheckChange(id: id, base: old?.status.rawValue ?? "absent", head: new?.status.rawValue ?? "absent",
                               baseFailingRows: old?.failingRows ?? 0, headFailingRows: new?.failingRows ?? 0)
        }
    }

    private static func fileText(_ project: PipelineProject, _ file: String) -> String? {
        try? String(contentsOfFile: project.directory + "/" + file, encoding: .utf8)
    }
}

extension TableDiff {
    func count(_ relation: Relation) throws -> Int {
        try connection.query("SELECT count(*) FROM \(relation.sql)").scalar()
    }
}

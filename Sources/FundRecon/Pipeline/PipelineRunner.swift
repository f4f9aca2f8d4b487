import Foundation
import Logging
import Postgres

/// Materializes a pipeline project into a run's schemas: seeds first, then models in DAG order.
///
/// A build may cover some layers only: then sources, and refs to models of the layers not built,
/// read from `readSchemas` (a persistent warehouse builds into a run's staging schemas while
/// reading the warehouse's own ODS).
public struct PipelineRunner: Sendable {
    let project: PipelineProject
    let schemas: RunSchemas
    let readSchemas: RunSchemas
    /// The vars models see: the project's, with the overrides.
    public let vars: [String: String]

    /// A runner; `overrides` (from `--var k=v`) replace the project's defaults.
    public init(project: PipelineProject, schemas: RunSchemas, overrides: [String: String] = [:], readSchemas: RunSchemas? = nil) throws {
        self.project = project
        self.schemas = schemas
        self.readSchemas = readSchemas ?? schemas
        for key in overrides.keys where project.vars[key] == nil {
            throw PipelineError(file: "project.yml", message: "the project defines no var '\(key)' to override",
                                directory: project.directory)
        }
        vars = project.vars.merging(overrides) { $1 }
    }

    /// The schema a model of `layer` is built in.
    func schema(of layer: Layer) -> String { schemas.name(layer) }

    /// How a model's expressions resolve: which layers this build makes (refs to the others, and to
    /// seeds unless `seedsHere`, read `readSchemas`), which incremental models are merged into the
    /// tables of `readSchemas` (refs to them read those), and whether this model is built
    /// incrementally (`is_incremental()`; `{{ this }}` is then its table in `readSchemas`).
    struct Resolution {
        var building: Set<Layer> = Set(Layer.allCases)
        var seedsHere = true
        var merged: Set<String> = []
        var incremental = false
    }

    /// The SQL of a model with every expression resolved (what runs, and what `recon dag --sql` shows).
    /// Refs to models of layers outside `building` (and to seeds, unless `seedsHere`) read `readSchemas`.
    public func compile(_ model: Model, building: Set<Layer> = Set(Layer.allCases), seedsHere: Bool = true) throws -> String {
        try compile(model, Resolution(building: building, seedsHere: seedsHere))
    }

    func compile(_ model: Model, _ resolution: Resolution) throws -> String {
        do {
            return try resolve(model.template.pieces, of: model, resolution)
        } catch let error as PipelineError {
            throw error.located(in: project.directory)
        }
    }

    func resolve(_ pieces: [ModelTemplate.Piece], of model: Model, _ resolution: Resolution) throws -> String {
        let byName = Dictionary(uniqueKeysWithValues: project.models.map { ($0.name, $0.layer) })
        let seedNames = Set(project.seeds.map(\.name))
        var sql = ""
        for piece in pieces {
            switch piece {
            case .text(let text): sql += text
            case .ref(let name):
                let layer = byName[name] ?? (seedNames.contains(name) ? .ods : nil)
                guard let layer else { throw PipelineError(file: model.file, message: "ref('\(name)') names no model or seed") }
                let here = byName[name] != nil ? resolution.building.contains(layer) && !resolution.merged.contains(name)
                                               : resolution.seedsHere
                sql += quoteIdentifier(here ? schemas.name(layer) : readSchemas.name(layer)) + "." + quoteIdentifier(name)
            case .source(let source, let table):
                guard let layer = Layer(rawValue: source), layer == .oltp || layer == .ods else {
                    throw PipelineError(file: model.file, message: "source('\(source)', ...): sources are 'oltp' and 'ods'")
                }
                if let tables = project.sources[source], !tables.contains(table) {
                    throw PipelineError(file: model.file, message: "source('\(source)', '\(table)'): models/sources.yml lists no "
                        + "table \(table) in source \(source)")
                }
                sql += quoteIdentifier(readSchemas.name(layer)) + "." + quoteIdentifier(table)
            case .variable(let name, let defaultValue):
                guard let value = vars[name] ?? defaultValue else {
                    throw PipelineError(file: model.file, message: "var('\(name)') is not defined in project.yml and has no default")
                }
                sql += value
            case .this:
                let schema = resolution.incremental ? readSchemas.name(model.layer) : schemas.name(model.layer)
                sql += quoteIdentifier(schema) + "." + quoteIdentifier(model.name)
            case .incremental(let then, let otherwise):
                let (taken, skipped) = resolution.incremental ? (then, otherwise) : (otherwise, then)
                sql += try resolve(taken, of: model, resolution)
                // The branch left out keeps its line breaks: error positions still fall on the file's lines.
                sql += String(repeating: "\n", count: ModelTemplate.lineBreaks(in: skipped))
            }
        }
        return sql
    }

    /// A model's identity for incremental builds: its SQL with refs, sources and `this` by name, the
    /// vars it reads substituted (except those that move with every run by design:
    /// `files_complete_through`, `as_of_date`), both branches of `is_incremental()`, and the
    /// identities of the models and seeds (their content) it reads. A model whose identity changed is built whole: its
    /// stored rows came from other SQL, or from upstream rows that other SQL made.
    public func identities() throws -> [String: String] {
        var result: [String: String] = [:]
        let moving: Set<String> = ["files_complete_through", "as_of_date"]
        func text(_ pieces: [ModelTemplate.Piece]) -> String {
            pieces.map { piece -> String in
                switch piece {
                case .text(let text): return text
                case .ref(let name): return "ref(\(name))"
                case .source(let source, let table): return "source(\(source).\(table))"
                case .variable(let name, let fallback): return moving.contains(name) ? "var(\(name))" : (vars[name] ?? fallback ?? "")
                case .this: return "this"
                case .incremental(let then, let otherwise): return "if(" + text(then) + ")else(" + text(otherwise) + ")"
                }
            }.joined()
        }
        for seed in project.seeds {
            result[seed.name] = (try? SHA256.digest(ofFile: project.directory + "/" + seed.file).hex) ?? "seed"
        }
        for model in try project.orderedModels() {
            var hash = SHA256()
            hash.update(Array((model.name + "|" + model.config.materialized + "|" + model.config.uniqueKey.joined(separator: ",")
                + "|" + text(model.template.pieces)).utf8))
            for upstream in Set(model.refs).sorted() { hash.update(Array((upstream + "=" + (result[upstream] ?? "seed")).utf8)) }
            result[model.name] = hash.finalize()
        }
        for seed in project.seeds { result[seed.name] = nil }
        return result
    }

    /// Loads the seeds and builds every model; a model PostgreSQL refuses is a `ModelFailure`
    /// with the model's line. With `recordStatements` the report keeps each model statement as
    /// it was sent (for replaying the build by hand). With `distribute`, a Citus coordinator's
    /// tables are laid out as their configs say (`Distribution`); without, they stay local.
    public func build(
        on connection: Connection, logger: Logger, layers: Set<Layer> = Set(Layer.allCases), seeds: Bool = true,
        recordStatements: Bool = false, merging: MergePlan? = nil, distribute: Bool = true, modelByModel: Bool = false
    ) throws -> BuildReport {
        var report = BuildReport(vars: vars)
        let ordered = try project.orderedModels().filter { layers.contains($0.layer) }
        // Measured: JIT compilation costs more than it saves on these models (a 62k-order build took
        // 6.8 s with it, 3.8 s without); large grouping statements gain little from it.
        try connection.execute("SELECT set_config('jit', 'off', false)")
        let distribution = distribute ? try Distribution.detect(on: connection) : Distribution(workers: 0)
        let merged = merging?.models ?? []
        let compiled = try ordered.map { model in
            try compile(model, Resolution(building: layers, seedsHere: seeds, merged: merged, incremental: merged.contains(model.name)))
        }
        for seed in project.seeds where seeds {
            let started = ContinuousClock.now
            let rows = try loadSeed(seed, on: connection)
            report.models.append(ModelRun(model: seed.name, layer: "seed", materialized: "seed", rows: rows,
                                          durationMS: milliseconds(since: started)))
        }
        func run(_ statement: SQL) throws -> Int {
            if recordStatements { report.statements.append(statement.text) }
            return try connection.execute(statement)
        }
        for (model, sql) in zip(ordered, compiled) {
            let started = ContinuousClock.now
            let merge = merged.contains(model.name) ? merging : nil
            // On Citus a distributed or reference table is created empty, laid out, then filled; a
            // merged model's batch too (a table of the run's schema, not a temporary one, which the
            // coordinator's connections to itself could not see).
            let distributed = distribution.lays(out: model.config)
            // A merged model's batch: the rows its increment computes, replacing the table's rows with their keys.
            let batchName = model.name + "__batch"
            let target: SQL = merge == nil ? "\(schema: schema(of: model.layer), table: model.name)"
                : distributed ? "\(schema: schema(of: model.layer), table: batchName)" : "\(identifier: batchName)"
            let create: SQL = merge != nil && !distributed ? "CREATE TEMPORARY TABLE \(target) ON COMMIT DROP AS\n"
                : model.config.materialized == "view" ? "CREATE VIEW \(target) AS\n"
                : distributed ? "INSERT INTO \(target)\n" : "CREATE TABLE \(target) AS\n"
            let prefix = create.text
            var rows = 0
            do {
                // Built model by model (each statement committed), an attempt that failed may have
                // left this model's table behind: the retry makes it again.
                if modelByModel { try dropRelation(target, on: connection) }
                // The model's SELECT is SQL by contract: the file, its refs and vars resolved; an
                // increment's watermarks given as the values they have.
                let select = SQL(unsafeSQL: merge != nil ? try Watermarks.inlined(in: sql, on: connection) : sql)
                if distributed {
                    _ = try run("CREATE TABLE \(target) AS\n" + select + "\nWITH NO DATA")
                    try distribution.distribute(target, tableName: merge == nil ? model.name : batchName, config: model.config,
                                                schema: schema(of: model.layer), on: connection)
                }
                rows = try run(create + select)
                // The declared indexes, on an increment's batch too: the merge gives the warehouse
                // table the ones it lacks (an index added to the config after the table was made).
                for index in model.config.indexes.map({ distribution.index($0, config: model.config) }) {
                    _ = try run(index.create(on: target))
                }
                if let merge {
                    _ = try run("ANALYZE \(target)")
                    report.merged += try merge.merge(model, target, connection)
                    _ = try run("DROP TABLE \(target)")
                } else if model.config.isTable {
                    _ = try run("ANALYZE \(target)")
                }
            } catch let error as PostgresError {
                throw ModelFailure(
                    model: model.name, file: model.file, line: error.position.map { line(of: $0, in: sql, prefix: prefix) },
                    sqlState: error.sqlState,
                    message: error.message + (error.detail.map { " (\($0))" } ?? "") + (error.hint.map { " hint: \($0)" } ?? ""),
                    directory: project.directory, isTransient: error.isTransient)
            }
            let run = ModelRun(model: model.name, layer: model.layer.rawValue,
                               materialized: merge != nil ? "incremental, merged" : model.config.materialized,
                               rows: rows, durationMS: milliseconds(since: started))
            report.models.append(run)
            logger.info("\(merge != nil ? "merged" : "built") \(model.name): \(rows) rows in \(run.durationMS) ms")
        }
        return report
    }

    /// Drops the table or view `relation` names, when there is one.
    func dropRelation(_ relation: SQL, on connection: Connection) throws {
        let kinds = try connection.query("SELECT relkind::text FROM pg_class WHERE oid = to_regclass(\(literal: relation.text))")
            .rows.map { try $0.decode(String.self, at: 0) }
        guard let kind = kinds.first else { return }
        try connection.execute(kind == "v" ? "DROP VIEW \(relation) CASCADE" : "DROP TABLE \(relation) CASCADE")
    }

    /// The model file's line for a 1-based character position in the statement sent.
    func line(of position: Int, in sql: String, prefix: String) -> Int {
        let statement = Array(prefix + sql)
        let upTo = statement.prefix(max(0, position - 1))
        return upTo.filter { $0 == "\n" }.count + 1 - prefix.filter { $0 == "\n" }.count
    }

    /// Loads a seed CSV as a table whose column types are inferred: integers, decimals, dates, text.
    func loadSeed(_ seed: Seed, on connection: Connection) throws -> Int {
        let path = project.directory + "/" + seed.file
        let reader = try CSVReader(path: path, shownAs: seed.file)
        var record = CSVRecord()
        guard try reader.next(into: &record) else {
            throw PipelineError(file: seed.file, message: "the seed is empty", directory: project.directory)
        }
        let header = (0..<record.count).map { record.string($0) }
        var rows: [[String?]] = []
        while try reader.next(into: &record) {
            if let problem = record.framingProblem {
                throw PipelineError(file: seed.file, line: record.line, message: problem, directory: project.directory)
            }
            guard record.count == header.count else {
                throw PipelineError(file: seed.file, line: record.line, message: "expected \(header.count) fields, got \(record.count)",
                                    directory: project.directory)
            }
            rows.append((0..<record.count).map { record.string($0).isEmpty ? nil : record.string($0) })
        }
        let types = header.indices.map { column -> SQL in
            let values = rows.compactMap { $0[column] }
            if !values.isEmpty, values.allSatisfy({ Int64($0) != nil }) { return "bigint" }
            if !values.isEmpty, values.allSatisfy({ FieldCheck.isDecimal(ArraySlice($0.utf8), precision: 30, scale: 10) }) {
                return "numeric"
            }
            if !values.isEmpty, values.allSatisfy({ CalendarDate($0) != nil }) { return "date" }
            return "text"
        }
        let table: SQL = "\(schema: schema(of: .ods), table: seed.name)"
        let columns = zip(header, types).map { "\(identifier: $0) \($1)" as SQL }.joined(separator: ", ")
        try connection.execute("CREATE TABLE \(table) (\(columns))")
        return try connection.copyIn("COPY \(table) FROM STDIN") { writer in
            for row in rows { try writer.writeRow(row) }
        }
    }
}

/// The incremental models a build merges into tables that exist (a persistent warehouse's), and
/// how: their batch (a temporary table of the rows their increment computes) goes to `merge`,
/// which returns the partitions it changed. The other models are built whole.
public struct MergePlan: Sendable {
    public var models: Set<String>
    public var merge: @Sendable (Model, SQL, Connection) throws -> [PartitionChange]

    public init(models: Set<String>, merge: @escaping @Sendable (Model, SQL, Connection) throws -> [PartitionChange]) {
        self.models = models
        self.merge = merge
    }
}

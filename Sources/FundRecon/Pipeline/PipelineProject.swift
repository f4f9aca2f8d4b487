import Foundation
import Yams

/// The warehouse definition: `project.yml`, `models/<layer>/*.sql`, `seeds/*.csv`.
public struct PipelineProject: Sendable {
    /// The folder it was read from.
    public let directory: String
    /// The project's name.
    public let name: String
    /// Vars and their defaults (`business_timezone`, `settlement_window_days` ...).
    public let vars: [String: String]
    /// Every model, in file order.
    public let models: [Model]
    /// Every seed.
    public let seeds: [Seed]
    /// The tables each source holds (`models/sources.yml`, dbt's sources file): `oltp` -> `orders` ...
    public let sources: [String: [String]]

    /// Reads and checks the project: a bad file is a `PipelineError` naming the file and line.
    public static func load(directory: String) throws -> PipelineProject {
        do {
            return try read(directory: directory)
        } catch let error as PipelineError {
            throw error.located(in: directory)
        }
    }

    static func read(directory: String) throws -> PipelineProject {
        let projectFile = directory + "/project.yml"
        guard let text = try? String(contentsOfFile: projectFile, encoding: .utf8) else {
            throw PipelineError(file: "project.yml", message: "cannot read \(projectFile): is it the pipeline folder?")
        }
        let node: Node
        do {
            guard let parsed = try Yams.compose(yaml: text) else {
                throw PipelineError(file: "project.yml", message: "the file is empty")
            }
            node = parsed
        } catch let error as PipelineError {
            throw error
        } catch let error as YamlError {
            throw PipelineError(file: "project.yml", message: "not valid YAML: \(error)")
        }
        guard let mapping = node.mapping else { throw PipelineError(file: "project.yml", line: 1, message: "expected a mapping") }
        var name = "pipeline"
        var vars: [String: String] = [:]
        for (key, value) in mapping {
            let line = key.mark.map { $0.line }
            switch key.string {
            case "name": name = value.string ?? name
            case "vars":
                guard let entries = value.mapping else { throw PipelineError(file: "project.yml", line: line, message: "vars must be a mapping") }
                for (varName, varValue) in entries {
                    guard let key = varName.string, let scalar = varValue.scalar else {
                        throw PipelineError(file: "project.yml", line: varName.mark.map { $0.line }, message: "a var is a name and a scalar value")
                    }
                    vars[key] = scalar.string
                }
            case "layers", "description", "version": break
            default:
                throw PipelineError(file: "project.yml", line: line, message: "unknown key '\(key.string ?? "?")' (name, vars, layers, description, version)")
            }
        }
        let macros = try readMacros(directory: directory)
        var models: [Model] = []
        for layer in Layer.allCases where layer != .oltp {
            let folder = "models/\(layer.rawValue)"
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + folder)) ?? [])
                .filter { $0.hasSuffix(".sql") }.sorted()
            for fileName in files {
                let file = folder + "/" + fileName
                let modelName = String(fileName.dropLast(4))
                guard modelName.hasPrefix(layer.rawValue + "_") else {
                    throw PipelineError(file: file, message: "a model in models/\(layer.rawValue) must be named \(layer.rawValue)_*")
                }
                let sql = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
                models.append(Model(name: modelName, layer: layer, file: file, template: try ModelTemplate(parsing: sql, file: file, macros: macros)))
            }
        }
        let seedFiles = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/seeds")) ?? [])
            .filter { $0.hasSuffix(".csv") }.sorted()
        let seeds = seedFiles.map { Seed(name: String($0.dropLast(4)), file: "seeds/" + $0) }
        var seen: Set<String> = []
        for name in models.map(\.name) + seeds.map(\.name) {
            guard seen.insert(name).inserted else {
                throw PipelineError(file: "models", message: "two models or seeds are named \(name)")
            }
        }
        var roles: [ModelRole: String] = [:]
        for model in models {
            guard let role = model.config.role else { continue }
            if let other = roles[role] {
                throw PipelineError(file: model.file, message: "role '\(role.rawValue)' is declared by \(other) already: one model plays a role")
            }
            roles[role] = model.name
        }
        return PipelineProject(directory: directory, name: name, vars: vars, models: models, seeds: seeds,
                               sources: try readSources(directory: directory))
    }

    /// The macros of `macros/*.sql`, by name; two macros of one name are an error.
    static func readMacros(directory: String) throws -> [String: Macro] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/macros")) ?? [])
            .filter { $0.hasSuffix(".sql") }.sorted()
        var macros: [String: Macro] = [:]
        for name in files {
            let file = "macros/" + name
            guard let text = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else {
                throw PipelineError(file: file, message: "cannot read the file")
            }
            for macro in try Macro.parse(file: text, named: file) {
                if let first = macros[macro.name] {
                    throw PipelineError(file: file, line: macro.line, message: "macro \(macro.name) is defined twice (first in \(first.file))")
                }
                macros[macro.name] = macro
            }
        }
        return macros
    }

    /// `models/sources.yml`: each source's tables (none when the file is absent).
    static func readSources(directory: String) throws -> [String: [String]] {
        let file = "models/sources.yml"
        guard let text = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else { return [:] }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw PipelineError(file: file, message: "not valid YAML: \(error)")
        }
        var sources: [String: [String]] = [:]
        for source in node?["sources"]?.sequence ?? [] {
            guard let name = source["name"]?.string else {
                throw PipelineError(file: file, line: source.mark.map { $0.line }, message: "a source needs a name")
            }
            sources[name] = (source["tables"]?.sequence ?? []).compactMap { $0["name"]?.string }
        }
        return sources
    }

    /// The model that declares `role` in its config, if any.
    public func model(for role: ModelRole) -> Model? {
        models.first { $0.config.role == role }
    }

    /// The model that declares `role`; a `PipelineError` naming the role when none does.
    public func require(_ role: ModelRole, for purpose: String) throws -> Model {
        guard let model = model(for: role) else {
            throw PipelineError(file: "models", message: "no model declares config(role='\(role.rawValue)'): \(purpose) "
                + "read it (\(role.contractModel) in the shipped pipeline)", directory: directory)
        }
        return model
    }

    /// The layer a source table is loaded into: `oltp` for the extracts, `ods` for the rest.
    public func sourceLayer(of table: String) -> Layer? {
        for (source, tables) in sources where tables.contains(table) {
            if let layer = Layer(rawValue: source) { return layer }
        }
        return nil
    }

    /// Models in an order where each comes after every model it refers to; a cycle or an unknown
    /// ref is a `PipelineError` naming it.
    public func orderedModels() throws -> [Model] {
        do {
            return try ordered()
        } catch let error as PipelineError {
            throw error.located(in: directory)
        }
    }

    func ordered() throws -> [Model] {
        let byName = Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0) })
        let seedNames = Set(seeds.map(\.name))
        for model in models {
            for ref in model.refs where byName[ref] == nil && !seedNames.contains(ref) {
                throw PipelineError(file: model.file, message: "ref('\(ref)') names no model or seed")
            }
        }
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var order: [Model] = []
        var path: [String] = []
        func visit(_ model: Model) throws {
            if state[model.name] == 2 { return }
            if state[model.name] == 1 {
                let cycle = path[(path.firstIndex(of: model.name) ?? 0)...] + [model.name]
                throw PipelineError(file: model.file, message: "models form a cycle: \(cycle.joined(separator: " -> "))")
            }
            state[model.name] = 1
            path.append(model.name)
            for ref in model.refs.sorted() { if let dependency = byName[ref] { try visit(dependency) } }
            path.removeLast()
            state[model.name] = 2
            order.append(model)
        }
        func rank(_ model: Model) -> Int { Layer.allCases.firstIndex(of: model.layer) ?? 0 }
        for model in models.sorted(by: { (rank($0), $0.name) < (rank($1), $1.name) }) {
            try visit(model)
        }
        return order
    }
}

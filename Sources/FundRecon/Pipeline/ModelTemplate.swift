/// A model's SQL split into literal text and the dbt expressions FundRecon understands:
/// `{{ ref('m') }}`, `{{ source('oltp', 't') }}`, `{{ var('name') }}`, `{{ this }}`, a leading
/// `{{ config(...) }}`, `{% if is_incremental() %} ... {% else %} ... {% endif %}` and calls of the
/// project's macros, expanded in place (on the calling line). `{# comments #}` are dropped.
/// Anything else is an error naming the line.
struct ModelTemplate: Sendable {
    indirect enum Piece: Equatable, Sendable {
        case text(String)
        case ref(String)
        case source(String, String)
        case variable(String, defaultValue: String?)
        /// `{{ this }}`: the model's own table as it stands before this build (dbt's meaning).
        case this
        /// `{% if is_incremental() %} then {% else %} otherwise {% endif %}`.
        case incremental(then: [Piece], otherwise: [Piece])
    }

    var pieces: [Piece] = []
    var config = ModelConfig()

    /// Names of the models and seeds this one refers to (in either branch of a conditional).
    var refs: [String] { ModelTemplate.refs(in: pieces) }

    static func refs(in pieces: [Piece]) -> [String] {
        pieces.flatMap { piece -> [String] in
            switch piece {
            case .ref(let name): return [name]
            case .incremental(let then, let otherwise): return refs(in: then) + refs(in: otherwise)
            default: return []
            }
        }
    }

    /// The line breaks in pieces' text (both branches of a nested conditional).
    static func lineBreaks(in pieces: [Piece]) -> Int {
        pieces.reduce(0) { count, piece in
            switch piece {
            case .text(let text): return count + text.filter { $0 == "\n" }.count
            case .incremental(let then, let otherwise): return count + lineBreaks(in: then) + lineBreaks(in: otherwise)
            default: return count
            }
        }
    }

    /// True when the SQL depends on whether the build is incremental.
    var isConditional: Bool { pieces.contains { if case .incremental = $0 { true } else { false } } }

    /// Parses the text of `file`; `macros` are the project's, by name.
    init(parsing text: String, file: String, macros: [String: Macro] = [:]) throws {
        var sawSQL = false
        var branches = ConditionalStack<Piece>()
        for token in try TemplateScanner.tokens(text, file: file) {
            func fail(_ message: String) -> PipelineError { PipelineError(file: file, line: token.line, message: message) }
            func add(_ new: [Piece]) { branches.isEmpty ? pieces.append(contentsOf: new) : branches.append(new) }
            switch token.kind {
            case .text:
                if token.body.contains(where: { !$0.isWhitespace }) { sawSQL = true }
                add([.text(token.body)])
            case .comment:
                // Its line breaks stay, so positions still map to the file's lines.
                add([.text(String(repeating: "\n", count: token.lineBreaks))])
            case .statement:
                guard let closed = try branches.take(token.body, line: token.line, fail: fail) else { break }
                add([.incremental(then: closed.then, otherwise: closed.otherwise)])
                if token.lineBreaks > 0 { add([.text(String(repeating: "\n", count: token.lineBreaks))]) }
            case .expression:
                var parser = TemplateExpressionParser(text: token.body)
                let value = try? parser.parseExpression()
                if case .name("this")? = value {
                    add([.this])
                } else if case .call(let call)? = value, call.name == "config" {
                    guard !sawSQL, branches.isEmpty else { throw fail("config() must come before the model's SQL") }
                    config = try ModelTemplate.config(from: call, fail: fail)
                } else if case .call(let call)? = value {
                    add(try ModelTemplate.expand(.call(call), macros: macros, parameters: [:], depth: 0, fail: fail))
                } else {
                    throw fail("'{{ \(token.body.trimmingCharacters(in: .whitespaces)) }}' is not ref(), source(), var(), this, a macro or config()")
                }
                if token.lineBreaks > 0 { add([.text(String(repeating: "\n", count: token.lineBreaks))]) }
            }
        }
        if let line = branches.openLine {
            throw PipelineError(file: file, line: line, message: "'{% if is_incremental() %}' is never closed with '{% endif %}'")
        }
        if config.materialized == "incremental", config.uniqueKey.isEmpty {
            throw PipelineError(file: file, message: "an incremental model needs unique_key (the rows a build replaces)")
        }
    }

    /// What an expression stands for, as pieces: a parameter's argument, a string, a ref, source
    /// or var, or a macro's body with its parameters bound.
    static func expand(_ value: TemplateValue, macros: [String: Macro], parameters: [String: [Piece]], depth: Int,
                       fail: (String) -> PipelineError) throws -> [Piece] {
        func text(_ value: TemplateValue) throws -> String {
            var result = ""
            for piece in try expand(value, macros: macros, parameters: parameters, depth: depth, fail: fail) {
                guard case .text(let part) = piece else { throw fail("a name or string is expected where a relation was given") }
                result += part
            }
            return result
        }
        switch value {
        case .string(let string): return [.text(string)]
        case .number(let number): return [.text(number)]
        case .name(let name):
            if let bound = parameters[name] { return bound }
            guard name == "this" else { throw fail("unknown name '\(name)'") }
            return [.this]
        case .call(let call):
            switch call.name {
            case "ref":
                guard call.positional.count == 1, call.keywords.isEmpty else { throw fail("ref() takes one model name: ref('dwd_orders')") }
                return [.ref(try text(call.positional[0]))]
            case "source":
                guard call.positional.count == 2, call.keywords.isEmpty else {
                    throw fail("source() takes a source and a table: source('oltp', 'orders')")
                }
                return [.source(try text(call.positional[0]), try text(call.positional[1]))]
            case "var":
                guard (1...2).contains(call.positional.count), call.keywords.isEmpty else {
                    throw fail("var() takes a name and an optional default: var('business_timezone', 'UTC')")
                }
                return [.variable(try text(call.positional[0]), defaultValue: call.positional.count == 2 ? try text(call.positional[1]) : nil)]
            default:
                guard let macro = macros[call.name] else {
                    throw fail("unknown function \(call.name)(): a model may use only ref(), source(), var(), macros and a leading config()")
                }
                guard let body = macro.body else {
                    throw fail("macro \(call.name) (\(macro.file):\(macro.line)) is dbt's alone: \(macro.unsupported ?? "it uses more of Jinja")")
                }
                guard depth < 20 else { throw fail("macros call each other too deeply (\(call.name))") }
                guard call.positional.count <= macro.parameters.count else {
                    throw fail("macro \(call.name) takes \(macro.parameters.count) arguments, not \(call.positional.count)")
                }
                var bound: [String: [Piece]] = [:]
                for (parameter, argument) in zip(macro.parameters, call.positional) {
                    bound[parameter.name] = try expand(argument, macros: macros, parameters: parameters, depth: depth + 1, fail: fail)
                }
                for keyword in call.keywords {
                    guard macro.parameters.contains(where: { $0.name == keyword.name }) else {
                        throw fail("macro \(call.name) has no parameter '\(keyword.name)'")
                    }
                    bound[keyword.name] = try expand(keyword.value, macros: macros, parameters: parameters, depth: depth + 1, fail: fail)
                }
                for parameter in macro.parameters where bound[parameter.name] == nil {
                    guard let fallback = parameter.defaultValue else {
                        throw fail("macro \(call.name) needs its argument '\(parameter.name)'")
                    }
                    bound[parameter.name] = try expand(fallback, macros: macros, parameters: [:], depth: depth + 1, fail: fail)
                }
                func expanded(_ body: [Macro.Piece]) throws -> [Piece] {
                    var result: [Piece] = []
                    for piece in body {
                        switch piece {
                        case .text(let part): result.append(.text(Macro.flattened(part)))
                        case .expression(let inner):
                            result += try expand(inner, macros: macros, parameters: bound, depth: depth + 1, fail: fail)
                        case .incremental(let then, let otherwise):
                            result.append(.incremental(then: try expanded(then), otherwise: try expanded(otherwise)))
                        }
                    }
                    return result
                }
                return try expanded(body)
            }
        default:
            throw fail("a list, a dictionary or a truth value cannot stand in SQL")
        }
    }

    static func config(from call: TemplateCall, fail: (String) -> PipelineError) throws -> ModelConfig {
        guard call.positional.isEmpty else { throw fail("config() takes keyword arguments only") }
        var config = ModelConfig()
        for keyword in call.keywords {
            let key = keyword.name
            switch (key, keyword.value) {
            case ("materialized", .string(let kind)):
                guard ["table", "view", "incremental"].contains(kind) else {
                    throw fail("materialized must be 'table', 'view' or 'incremental', not '\(kind)'")
                }
                config.materialized = kind
            case ("unique_key", .string(let column)):
                config.uniqueKey = [column]
            case ("unique_key", .list(let items)):
                config.uniqueKey = items.compactMap { if case .string(let name) = $0 { return name } else { return nil } }
                guard config.uniqueKey.count == items.count, !items.isEmpty else { throw fail("unique_key must be a column or a list of columns") }
            case ("incremental_strategy", .string(let strategy)):
                guard strategy == "delete+insert" else {
                    throw fail("incremental_strategy must be 'delete+insert' (the rows of the batch's keys are replaced), not '\(strategy)'")
                }
            case ("distributed_by", .string(let column)):
                config.distributedBy = column
            case ("colocate_with", .string(let model)):
                config.colocateWith = model
            case ("reference", .bool(let flag)):
                config.reference = flag
            case ("partition_by", .string(let column)):
                config.partitionBy = column
            case ("restatements", .bool(let flag)):
                config.restatements = flag
            case ("role", .string(let name)):
                guard let role = ModelRole(rawValue: name) else {
                    throw fail("unknown role '\(name)' (\(ModelRole.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                config.role = role
            case ("indexes", .list(let items)):
                for item in items {
                    guard case .dictionary(let entries) = item, case .list(let columns)? = entries["columns"] else {
                        throw fail("each index is {'columns': [...], 'unique': True|False, 'type': 'btree'|'hash'|...}")
                    }
                    let names = columns.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
                    guard names.count == columns.count, !names.isEmpty else { throw fail("index columns must be names") }
                    var unique = false
                    if let flag = entries["unique"] {
                        guard case .bool(let value) = flag else { throw fail("'unique' must be True or False") }
                        unique = value
                    }
                    var type = ModelConfig.IndexType.btree
                    if let value = entries["type"] {
                        guard case .string(let name) = value, let known = ModelConfig.IndexType(rawValue: name.lowercased()) else {
                            throw fail("an index's 'type' is one of \(ModelConfig.IndexType.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))")
                        }
                        type = known
                    }
                    guard !unique || type == .btree else { throw fail("a unique index must be a btree ('\(type.rawValue)' is not unique)") }
                    for key in entries.keys where key != "columns" && key != "unique" && key != "type" {
                        throw fail("unknown index key '\(key)'")
                    }
                    config.indexes.append(.init(columns: names, unique: unique, type: type))
                }
            default:
                throw fail("unknown or malformed config key '\(key)' (materialized, unique_key, incremental_strategy, indexes, "
                    + "distributed_by, colocate_with, reference, partition_by, restatements, role)")
            }
        }
        return config
    }
}

/// The open `{% if is_incremental() %}` blocks of a template while it is read: the innermost
/// takes the pieces that follow, in its then or else branch.
struct ConditionalStack<Piece> {
    private var frames: [(then: [Piece], otherwise: [Piece], inElse: Bool, negated: Bool, line: Int)] = []

    var isEmpty: Bool { frames.isEmpty }
    var openLine: Int? { frames.last?.line }

    mutating func append(_ pieces: [Piece]) {
        guard !frames.isEmpty else { return }
        if frames[frames.count - 1].inElse { frames[frames.count - 1].otherwise += pieces } else { frames[frames.count - 1].then += pieces }
    }

    /// Takes a `{% statement %}`: opens, switches or closes a block; returns a block it closed as
    /// (incremental branch, full branch). Any other statement is an error.
    mutating func take(_ body: String, line: Int = 0, fail: (String) -> PipelineError) throws -> (then: [Piece], otherwise: [Piece])? {
        let statement = body.trimmingCharacters(in: .whitespacesAndNewlines).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        switch statement {
        case "if is_incremental()", "if not is_incremental()":
            frames.append(([], [], false, statement.hasPrefix("if not"), line))
            return nil
        case "else":
            guard !frames.isEmpty, !frames[frames.count - 1].inElse else { throw fail("'{% else %}' without its '{% if is_incremental() %}'") }
            frames[frames.count - 1].inElse = true
            return nil
        case "endif":
            guard let frame = frames.popLast() else { throw fail("'{% endif %}' without its '{% if is_incremental() %}'") }
            return frame.negated ? (frame.otherwise, frame.then) : (frame.then, frame.otherwise)
        default:
            throw fail("'{% \(statement) %}': the only statement a model or macro may use is '{% if is_incremental() %} ... "
                + "{% else %} ... {% endif %}'")
        }
    }
}

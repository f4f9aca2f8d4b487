/// A model's SQL split into literal text and the dbt expressions FundRecon understands:
/// `{{ ref('m') }}`, `{{ source('oltp', 't') }}`, `{{ var('name') }}`, a leading `{{ config(...) }}`
/// and calls of the project's macros, expanded in place (on the calling line). `{# comments #}`
/// are dropped. Anything else is an error naming the line.
struct ModelTemplate {
    enum Piece: Equatable {
        case text(String)
        case ref(String)
        case source(String, String)
        case variable(String, defaultValue: String?)
    }

    var pieces: [Piece] = []
    var config = ModelConfig()

    /// Names of the models and seeds this one refers to.
    var refs: [String] { pieces.compactMap { if case .ref(let name) = $0 { return name } else { return nil } } }

    /// Parses the text of `file`; `macros` are the project's, by name.
    init(parsing text: String, file: String, macros: [String: Macro] = [:]) throws {
        var sawSQL = false
        for token in try TemplateScanner.tokens(text, file: file) {
            func fail(_ message: String) -> PipelineError { PipelineError(file: file, line: token.line, message: message) }
            switch token.kind {
            case .text:
                if token.body.contains(where: { !$0.isWhitespace }) { sawSQL = true }
                pieces.append(.text(token.body))
            case .comment:
                // Its line breaks stay, so positions still map to the file's lines.
                pieces.append(.text(String(repeating: "\n", count: token.lineBreaks)))
            case .statement:
                throw fail("'{% \(token.body.trimmingCharacters(in: .whitespaces)) %}': statements are not supported; "
                    + "a model may use only ref(), source(), var(), macros and a leading config()")
            case .expression:
                var parser = TemplateExpressionParser(text: token.body)
                guard case .call(let call)? = try? parser.parseExpression() else {
                    throw fail("'{{ \(token.body.trimmingCharacters(in: .whitespaces)) }}' is not ref(), source(), var(), a macro or config()")
                }
                if call.name == "config" {
                    guard !sawSQL else { throw fail("config() must come before the model's SQL") }
                    config = try ModelTemplate.config(from: call, fail: fail)
                } else {
                    pieces += try ModelTemplate.expand(.call(call), macros: macros, parameters: [:], depth: 0, fail: fail)
                }
                if token.lineBreaks > 0 { pieces.append(.text(String(repeating: "\n", count: token.lineBreaks))) }
            }
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
            guard let bound = parameters[name] else { throw fail("unknown name '\(name)'") }
            return bound
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
                var pieces: [Piece] = []
                for piece in body {
                    switch piece {
                    case .text(let part): pieces.append(.text(Macro.flattened(part)))
                    case .expression(let inner):
                        pieces += try expand(inner, macros: macros, parameters: bound, depth: depth + 1, fail: fail)
                    }
                }
                return pieces
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
                guard kind == "table" || kind == "view" else { throw fail("materialized must be 'table' or 'view', not '\(kind)'") }
                config.materialized = kind
            case ("distributed_by", .string(let column)):
                config.distributedBy = column
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
                        throw fail("each index is {'columns': [...], 'unique': True|False}")
                    }
                    let names = columns.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
                    guard names.count == columns.count, !names.isEmpty else { throw fail("index columns must be names") }
                    var unique = false
                    if let flag = entries["unique"] {
                        guard case .bool(let value) = flag else { throw fail("'unique' must be True or False") }
                        unique = value
                    }
                    for key in entries.keys where key != "columns" && key != "unique" && key != "type" {
                        throw fail("unknown index key '\(key)'")
                    }
                    config.indexes.append(.init(columns: names, unique: unique))
                }
            default:
                throw fail("unknown or malformed config key '\(key)' (materialized, indexes, distributed_by, partition_by, restatements, role)")
            }
        }
        return config
    }
}

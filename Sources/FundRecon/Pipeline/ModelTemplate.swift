/// What a model's `{{ config(...) }}` asks for.
public struct ModelConfig: Sendable, Equatable {
    /// `table` or `view`.
    public var materialized = "table"
    /// Indexes to create after a table is built.
    public var indexes: [IndexSpec] = []
    /// The column a distributed warehouse (Citus) would distribute the table on.
    public var distributedBy: String?
    /// The column whose values are the table's partitions (a business date or month) in a
    /// persistent warehouse: `recon run` replaces only the partitions whose rows changed, and
    /// reports a changed partition of a closed period as a restatement.
    public var partitionBy: String?
    /// False for tables whose closed partitions change in the normal course (match statuses
    /// moving from pending to matched): their changes are published but not called restatements.
    public var restatements = true
    /// What FundRecon itself reads the model as (the reports' breaks, statements ...).
    public var role: ModelRole?

    /// One index of `indexes=[{'columns': [...], 'unique': True}]`.
    public struct IndexSpec: Sendable, Equatable {
        public var columns: [String]
        public var unique: Bool
    }
}

/// A model's SQL split into literal text and the dbt expressions FundRecon understands:
/// `{{ ref('m') }}`, `{{ source('oltp', 't') }}`, `{{ var('name') }}`, and a leading
/// `{{ config(...) }}`. `{# comments #}` are dropped. Anything else is an error naming the line.
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

    /// Parses the text of `file`.
    init(parsing text: String, file: String) throws {
        var rest = Substring(text)
        var line = 1
        var sawSQL = false
        while let open = rest.range(of: "{") {
            guard let next = rest[open.lowerBound...].dropFirst().first, next == "{" || next == "%" || next == "#" else {
                let upTo = rest[..<rest.index(after: open.lowerBound)]
                append(String(upTo), &sawSQL)
                line += upTo.filter { $0 == "\n" }.count
                rest = rest[rest.index(after: open.lowerBound)...]
                continue
            }
            let before = rest[..<open.lowerBound]
            append(String(before), &sawSQL)
            line += before.filter { $0 == "\n" }.count
            let closing = next == "{" ? "}}" : (next == "%" ? "%}" : "#}")
            let bodyStart = rest.index(open.lowerBound, offsetBy: 2)
            guard let close = rest[bodyStart...].range(of: closing) else {
                throw PipelineError(file: file, line: line, message: "'{\(next)' is never closed with '\(closing)'")
            }
            let body = rest[bodyStart..<close.lowerBound]
            let bodyLines = body.filter { $0 == "\n" }.count
            switch next {
            case "#":
                // A comment: keep its line breaks so positions still map to the file's lines.
                pieces.append(.text(String(repeating: "\n", count: bodyLines)))
            case "%":
                throw PipelineError(
                    file: file, line: line,
                    message: "'{% \(body.trimmingCharacters(in: .whitespaces)) %}': statements are not supported; "
                        + "a model may use only ref(), source(), var() and a leading config()")
            default:
                try expression(String(body), file: file, line: line, sawSQL: sawSQL)
                if bodyLines > 0 { pieces.append(.text(String(repeating: "\n", count: bodyLines))) }
            }
            line += bodyLines
            rest = rest[close.upperBound...]
            if rest.isEmpty { break }
        }
        append(String(rest), &sawSQL)
    }

    private mutating func append(_ text: String, _ sawSQL: inout Bool) {
        guard !text.isEmpty else { return }
        if text.contains(where: { !$0.isWhitespace }) { sawSQL = true }
        pieces.append(.text(text))
    }

    private mutating func expression(_ body: String, file: String, line: Int, sawSQL: Bool) throws {
        func fail(_ message: String) -> PipelineError { PipelineError(file: file, line: line, message: message) }
        var parser = CallParser(text: body)
        guard let call = try? parser.parseCall() else {
            throw fail("'{{ \(body.trimmingCharacters(in: .whitespaces)) }}' is not ref(), source(), var() or config()")
        }
        let strings = call.positional.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        switch call.name {
        case "ref":
            guard strings.count == 1, call.positional.count == 1, call.keywords.isEmpty else {
                throw fail("ref() takes one model name: ref('dwd_orders')")
            }
            pieces.append(.ref(strings[0]))
        case "source":
            guard strings.count == 2, call.positional.count == 2, call.keywords.isEmpty else {
                throw fail("source() takes a source and a table: source('oltp', 'orders')")
            }
            pieces.append(.source(strings[0], strings[1]))
        case "var":
            guard (1...2).contains(strings.count), strings.count == call.positional.count, call.keywords.isEmpty else {
                throw fail("var() takes a name and an optional default: var('business_timezone', 'UTC')")
            }
            pieces.append(.variable(strings[0], defaultValue: strings.count == 2 ? strings[1] : nil))
        case "config":
            guard !sawSQL else { throw fail("config() must come before the model's SQL") }
            config = try ModelTemplate.config(from: call, fail: fail)
        default:
            throw fail("unknown function \(call.name)(): a model may use only ref(), source(), var() and a leading config()")
        }
    }

    private static func config(from call: CallParser.Call, fail: (String) -> PipelineError) throws -> ModelConfig {
        guard call.positional.isEmpty else { throw fail("config() takes keyword arguments only") }
        var config = ModelConfig()
        for (key, value) in call.keywords {
            switch (key, value) {
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

/// Parses one call in the Python-like syntax dbt's Jinja uses: `name('a', k=[{'x': True}])`.
struct CallParser {
    indirect enum Value: Equatable {
        case string(String), number(String), bool(Bool), none, list([Value]), dictionary([String: Value])
    }

    struct Call {
        var name: String
        var positional: [Value] = []
        var keywords: [(String, Value)] = []
    }

    struct Failure: Error {}

    private let characters: [Character]
    private var index = 0

    init(text: String) {
        characters = Array(text)
    }

    mutating func parseCall() throws -> Call {
        skipSpace()
        let name = identifier()
        guard !name.isEmpty else { throw Failure() }
        var call = Call(name: name)
        try expect("(")
        skipSpace()
        if peek() != ")" {
            while true {
                skipSpace()
                let start = index
                let word = identifier()
                skipSpace()
                if !word.isEmpty, peek() == "=" {
                    index += 1
                    call.keywords.append((word, try value()))
                } else {
                    index = start
                    call.positional.append(try value())
                }
                skipSpace()
                if peek() == "," {
                    index += 1
                    continue
                }
                break
            }
        }
        try expect(")")
        skipSpace()
        guard index == characters.count else { throw Failure() }
        return call
    }

    private mutating func value() throws -> Value {
        skipSpace()
        guard let first = peek() else { throw Failure() }
        switch first {
        case "'", "\"":
            index += 1
            var text = ""
            while let character = peek(), character != first {
                text.append(character)
                index += 1
            }
            try expect(first)
            return .string(text)
        case "[":
            index += 1
            var items: [Value] = []
            skipSpace()
            while peek() != "]" {
                items.append(try value())
                skipSpace()
                if peek() == "," { index += 1; skipSpace() } else { break }
            }
            try expect("]")
            return .list(items)
        case "{":
            index += 1
            var entries: [String: Value] = [:]
            skipSpace()
            while peek() != "}" {
                guard case .string(let key) = try value() else { throw Failure() }
                skipSpace()
                try expect(":")
                entries[key] = try value()
                skipSpace()
                if peek() == "," { index += 1; skipSpace() } else { break }
            }
            try expect("}")
            return .dictionary(entries)
        default:
            let word = identifier()
            switch word {
            case "True", "true": return .bool(true)
            case "False", "false": return .bool(false)
            case "None", "none": return .none
            default:
                guard !word.isEmpty, word.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }) else { throw Failure() }
                return .number(word)
            }
        }
    }

    private func peek() -> Character? { index < characters.count ? characters[index] : nil }

    private mutating func skipSpace() {
        while let character = peek(), character.isWhitespace { index += 1 }
    }

    private mutating func identifier() -> String {
        var word = ""
        while let character = peek(), character.isLetter || character.isNumber || character == "_" || character == "." || character == "-" {
            word.append(character)
            index += 1
        }
        return word
    }

    private mutating func expect(_ character: Character) throws {
        skipSpace()
        guard peek() == character else { throw Failure() }
        index += 1
    }
}

/// An expression in the Jinja subset the pipeline's templates use (the Python-like syntax of dbt):
/// literals, lists, dictionaries, names and calls: `ref('m')`, `dedup(source('ods', 't'), 'id')`,
/// `config(indexes=[{'columns': ['a'], 'unique': True}])`.
indirect enum TemplateValue: Equatable {
    case string(String), number(String), bool(Bool), none, list([TemplateValue]), dictionary([String: TemplateValue])
    /// A name: a macro's parameter.
    case name(String)
    case call(TemplateCall)
}

/// A call: `name(positional..., keyword=value...)`.
struct TemplateCall: Equatable {
    var name: String
    var positional: [TemplateValue] = []
    var keywords: [Keyword] = []

    struct Keyword: Equatable {
        var name: String
        var value: TemplateValue
    }

    /// The positional arguments when every one is a string literal (nil otherwise).
    var strings: [String]? {
        let strings = positional.compactMap { if case .string(let text) = $0 { return text } else { return nil } }
        return strings.count == positional.count ? strings : nil
    }
}

/// Parses one expression of a template; throws `Failure` on anything outside the subset.
struct TemplateExpressionParser {
    struct Failure: Error {}

    private let characters: [Character]
    private var index = 0

    init(text: String) {
        characters = Array(text)
    }

    /// The whole text as one expression.
    mutating func parseExpression() throws -> TemplateValue {
        let value = try self.value()
        skipSpace()
        guard index == characters.count else { throw Failure() }
        return value
    }

    /// The whole text as one call.
    mutating func parseCall() throws -> TemplateCall {
        guard case .call(let call) = try parseExpression() else { throw Failure() }
        return call
    }

    private mutating func value() throws -> TemplateValue {
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
            var items: [TemplateValue] = []
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
            var entries: [String: TemplateValue] = [:]
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
            if first.isNumber || first == "-" {
                var number = ""
                while let character = peek(), character.isNumber || character == "." || character == "-" {
                    number.append(character)
                    index += 1
                }
                return .number(number)
            }
            let word = identifier()
            guard !word.isEmpty else { throw Failure() }
            switch word {
            case "True", "true": return .bool(true)
            case "False", "false": return .bool(false)
            case "None", "none": return .none
            default: break
            }
            skipSpace()
            guard peek() == "(" else { return .name(word) }
            return .call(try arguments(of: word))
        }
    }

    private mutating func arguments(of name: String) throws -> TemplateCall {
        var call = TemplateCall(name: name)
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
                    call.keywords.append(.init(name: word, value: try value()))
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
        return call
    }

    private func peek() -> Character? { index < characters.count ? characters[index] : nil }

    private mutating func skipSpace() {
        while let character = peek(), character.isWhitespace { index += 1 }
    }

    private mutating func identifier() -> String {
        var word = ""
        while let character = peek(), character.isLetter || character.isNumber || character == "_" {
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

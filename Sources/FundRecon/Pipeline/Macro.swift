/// A macro of `macros/*.sql`: `{% macro name(a, b='x') %} ... {{ a }} ... {% endmacro %}`, which a
/// model calls as `{{ name(args) }}`. The subset dbt-postgres renders the same way: a body of SQL
/// text and `{{ }}` expressions (parameters, `ref`, `source`, `var`, other macros), arguments that
/// are strings, numbers or those calls. A macro using more of Jinja (filters, statements) is kept
/// as dbt's alone: calling it from a model is an error that says so.
struct Macro {
    /// A parameter and its default.
    struct Parameter: Equatable {
        var name: String
        var defaultValue: TemplateValue?
    }

    /// A piece of a macro's body.
    indirect enum Piece: Equatable {
        case text(String)
        case expression(TemplateValue)
        /// `{% if is_incremental() %} then {% else %} otherwise {% endif %}`.
        case incremental(then: [Piece], otherwise: [Piece])
    }

    let name: String
    let parameters: [Parameter]
    /// The body, or nil for a macro outside the subset (`unsupported` says why).
    let body: [Piece]?
    let unsupported: String?
    let file: String
    let line: Int

    /// The macros of one file.
    static func parse(file text: String, named file: String) throws -> [Macro] {
        func fail(_ line: Int, _ message: String) -> PipelineError { PipelineError(file: file, line: line, message: message) }
        var macros: [Macro] = []
        var open: (name: String, parameters: [Parameter], line: Int)?
        var body: [Piece] = []
        var branches = ConditionalStack<Piece>()
        var unsupported: String?
        func add(_ piece: Piece) { branches.isEmpty ? body.append(piece) : branches.append([piece]) }
        for token in try TemplateScanner.tokens(text, file: file) {
            let statement = token.body.trimmingCharacters(in: .whitespacesAndNewlines)
            if token.kind == .statement, statement.hasPrefix("macro ") {
                guard open == nil else { throw fail(token.line, "a macro cannot be defined inside another") }
                var parser = TemplateExpressionParser(text: String(statement.dropFirst("macro ".count)))
                guard let call = try? parser.parseCall() else { throw fail(token.line, "'{% \(statement) %}' is not macro name(parameters)") }
                var parameters: [Parameter] = []
                for argument in call.positional {
                    guard case .name(let name) = argument else { throw fail(token.line, "macro parameters are names") }
                    parameters.append(Parameter(name: name))
                }
                parameters += call.keywords.map { Parameter(name: $0.name, defaultValue: $0.value) }
                open = (call.name, parameters, token.line)
                body = []
                branches = ConditionalStack<Piece>()
                unsupported = nil
                continue
            }
            if token.kind == .statement, statement == "endmacro" {
                guard let current = open else { throw fail(token.line, "endmacro without a macro") }
                if let line = branches.openLine { throw fail(line, "'{% if is_incremental() %}' is never closed with '{% endif %}'") }
                macros.append(Macro(name: current.name, parameters: current.parameters, body: unsupported == nil ? body : nil,
                                    unsupported: unsupported, file: file, line: current.line))
                open = nil
                continue
            }
            guard open != nil else {
                guard token.kind == .comment || (token.kind == .text && token.body.allSatisfy(\.isWhitespace)) else {
                    throw fail(token.line, "only macros and comments may stand in a macros file")
                }
                continue
            }
            switch token.kind {
            case .text: add(.text(token.body))
            case .comment: continue
            case .statement:
                do {
                    if let closed = try branches.take(token.body, line: token.line, fail: { fail(token.line, $0) }) {
                        add(.incremental(then: closed.then, otherwise: closed.otherwise))
                    }
                } catch {
                    unsupported = unsupported ?? "it uses '{% \(statement) %}'"
                }
            case .expression:
                var parser = TemplateExpressionParser(text: token.body)
                if let value = try? parser.parseExpression() {
                    add(.expression(value))
                } else {
                    unsupported = unsupported ?? "it uses '{{ \(token.body.trimmingCharacters(in: .whitespaces)) }}'"
                }
            }
        }
        if let open { throw fail(open.line, "macro \(open.name) is never closed with endmacro") }
        return macros
    }

    /// A macro's body as one line: its line breaks become spaces and its `--` comments are
    /// dropped, so an expansion keeps the calling model's lines where they are.
    static func flattened(_ text: String) -> String {
        var result = ""
        var inString = false
        var characters = text.makeIterator()
        var pending: Character?
        while let character = pending ?? characters.next() {
            pending = nil
            if character == "'" { inString.toggle() }
            if !inString && character == "-" {
                if let next = characters.next() {
                    if next == "-" {
                        while let skipped = characters.next(), skipped != "\n" {}
                        result.append(" ")
                        continue
                    }
                    result.append(character)
                    pending = next
                    continue
                }
            }
            result.append(character == "\n" || character == "\r" ? " " : character)
        }
        return result
    }
}

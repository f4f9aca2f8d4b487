/// One piece of a template file: literal text, an `{{ expression }}`, a `{% statement %}` or a
/// `{# comment #}`, with the line it starts on. Jinja's whitespace control is applied: `{{-` and
/// `{%-` trim the text before, `-}}` and `-%}` the text after.
struct TemplateToken: Equatable {
    enum Kind: Equatable { case text, expression, statement, comment }

    var kind: Kind
    /// The text, or the body between the delimiters (without the whitespace-control dashes).
    var body: String
    var line: Int

    /// The number of line breaks in the body.
    var lineBreaks: Int { body.filter { $0 == "\n" }.count }
}

/// Splits a template (a model or a macros file) into tokens. Whitespace trimmed by `-` keeps its
/// line breaks, so a statement's error positions still fall on the file's lines.
enum TemplateScanner {
    /// `text` without its leading (or trailing) white space, but with the line breaks that white space held.
    static func trim(_ text: String, leading: Bool) -> String {
        let kept = leading ? String(text.drop { $0.isWhitespace }) : String(text.reversed().drop { $0.isWhitespace }.reversed())
        let breaks = String(repeating: "\n", count: text.filter { $0 == "\n" }.count - kept.filter { $0 == "\n" }.count)
        return leading ? breaks + kept : kept + breaks
    }

    static func tokens(_ text: String, file: String) throws -> [TemplateToken] {
        var tokens: [TemplateToken] = []
        var rest = Substring(text)
        var line = 1
        var trimNext = false
        func addText(_ part: Substring) {
            var part = String(part)
            if trimNext { part = trim(part, leading: true) }
            trimNext = false
            if !part.isEmpty { tokens.append(TemplateToken(kind: .text, body: part, line: line)) }
        }
        while let open = rest.range(of: "{") {
            guard let next = rest[open.upperBound...].first, next == "{" || next == "%" || next == "#" else {
                let upTo = rest[..<open.upperBound]
                addText(upTo)
                line += upTo.filter { $0 == "\n" }.count
                rest = rest[open.upperBound...]
                continue
            }
            let before = rest[..<open.lowerBound]
            let beforeLines = before.filter { $0 == "\n" }.count
            addText(before)
            line += beforeLines
            let closing = next == "{" ? "}}" : (next == "%" ? "%}" : "#}")
            var bodyStart = rest.index(open.lowerBound, offsetBy: 2)
            guard let close = rest[bodyStart...].range(of: closing) else {
                throw PipelineError(file: file, line: line, message: "'{\(next)' is never closed with '\(closing)'")
            }
            if rest[bodyStart...].first == "-" {
                bodyStart = rest.index(after: bodyStart)
                if let last = tokens.indices.last, tokens[last].kind == .text {
                    let trimmed = trim(tokens[last].body, leading: false)
                    if trimmed.isEmpty { tokens.removeLast() } else { tokens[last].body = trimmed }
                }
            }
            var bodyEnd = close.lowerBound
            if bodyEnd > bodyStart, rest[rest.index(before: bodyEnd)] == "-" {
                bodyEnd = rest.index(before: bodyEnd)
                trimNext = true
            }
            let kind: TemplateToken.Kind = next == "{" ? .expression : (next == "%" ? .statement : .comment)
            let body = String(rest[bodyStart..<bodyEnd])
            tokens.append(TemplateToken(kind: kind, body: body, line: line))
            line += rest[rest.index(open.lowerBound, offsetBy: 2)..<close.upperBound].filter { $0 == "\n" }.count
            rest = rest[close.upperBound...]
        }
        addText(rest)
        return tokens
    }
}

/// A statement with its bound parameters.
///
/// Written as a string literal, interpolated values become `$n` parameters, never text in the
/// statement: `"SELECT * FROM t WHERE id = \(id)"` sends `SELECT * FROM t WHERE id = $1` with
/// `id` bound. `\(identifier: name)` quotes an identifier and `\(unsafeSQL: text)` splices text
/// as it is: the one explicit escape hatch, for SQL the program builds itself.
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The statement text with `$n` placeholders.
    public private(set) var text: String
    /// The parameters in placeholder order, as PostgreSQL text (nil is NULL).
    public private(set) var parameters: [String?]

    /// A statement with explicit parameters.
    public init(_ text: String, parameters: [String?] = []) {
        self.text = text
        self.parameters = parameters
    }

    /// A statement from literal text alone.
    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// A statement built by interpolation.
    public init(stringInterpolation: Interpolation) {
        self.init(stringInterpolation.text, parameters: stringInterpolation.parameters)
    }

    /// The statement text only: bound values are never shown.
    public var description: String { text }

    /// Collects literal text and bound values while a literal is interpolated.
    public struct Interpolation: StringInterpolationProtocol {
        var text = ""
        var parameters: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) {
            text += literal
        }

        /// Binds a value as the next `$n` parameter.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            parameters.append(value.postgresText)
            text += "$\(parameters.count)"
        }

        /// Binds an optional value; nil is NULL.
        public mutating func appendInterpolation(_ value: (some PostgresEncodable)?) {
            parameters.append(value?.postgresText)
            text += "$\(parameters.count)"
        }

        /// Splices a quoted identifier.
        public mutating func appendInterpolation(identifier: String) {
            text += quoteIdentifier(identifier)
        }

        /// Splices a quoted string literal, for the statements that take no parameters (DDL).
        public mutating func appendInterpolation(literal: String) {
            text += quoteLiteral(literal)
        }

        /// Splices a schema-qualified, quoted name.
        public mutating func appendInterpolation(schema: String, table: String) {
            text += quoteIdentifier(schema) + "." + quoteIdentifier(table)
        }

        /// Splices SQL text as it is. Only for text the program itself built.
        public mutating func appendInterpolation(unsafeSQL: String) {
            text += unsafeSQL
        }
    }
}

/// Quotes an identifier for PostgreSQL: wraps it in double quotes and doubles any inside.
///
/// This is the one place identifiers are quoted. A NUL character cannot occur in a PostgreSQL
/// identifier and is dropped.
public func quoteIdentifier(_ name: String) -> String {
    quoted(name, in: "\"")
}

/// Quotes a string literal for PostgreSQL: wraps it in single quotes and doubles any inside.
///
/// The one place literals are quoted, for statements that cannot take bound parameters (DDL,
/// fragments of generated SQL). A NUL character cannot occur in PostgreSQL text and is dropped.
public func quoteLiteral(_ text: String) -> String {
    quoted(text, in: "'")
}

/// `text` between two `mark`s, each `mark` inside doubled, NUL dropped: PostgreSQL's quoting of
/// identifiers (`"`) and of literals (`'`).
private func quoted(_ text: String, in mark: Unicode.Scalar) -> String {
    var quoted = String(mark)
    for character in text.unicodeScalars where character != "\0" {
        if character == mark { quoted.unicodeScalars.append(mark) }
        quoted.unicodeScalars.append(character)
    }
    quoted.unicodeScalars.append(mark)
    return quoted
}

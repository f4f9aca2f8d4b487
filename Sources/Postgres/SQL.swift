import Foundation

/// A statement, or a fragment of one, with its bound parameters.
///
/// Written as a string literal, interpolated values become `$n` parameters, never text in the
/// statement: `"SELECT * FROM t WHERE id = \(id)"` sends `SELECT * FROM t WHERE id = $1` with
/// `id` bound. Fragments compose: `+`, `joined(separator:)` and `\(fragment)` inside another
/// literal keep each fragment's parameters with it and number them in the final order. Names are
/// spliced quoted (`\(identifier: name)`), string constants quoted (`\(literal: text)`), numbers
/// as numbers (`\(integer: n)`, `\(decimal: d)`). Text that is SQL by contract (a model file, a
/// fragment an expectations author wrote) enters through the one explicit escape hatch,
/// `SQL(unsafeSQL:)` or `\(unsafeSQL:)`.
public struct SQL: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// Literal text, or a bound value (nil is NULL): numbered `$1`, `$2` ... in order when rendered.
    enum Piece: Sendable, Equatable {
        case text(String)
        case parameter(String?)
    }

    private(set) var pieces: [Piece]

    /// SQL text taken as it is: a model's file, an expectations author's fragment, a statement
    /// read from a file. Never for values.
    public init(unsafeSQL text: String) {
        pieces = text.isEmpty ? [] : [.text(text)]
    }

    /// A statement from literal text alone.
    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    /// A statement built by interpolation.
    public init(stringInterpolation: Interpolation) {
        pieces = stringInterpolation.pieces
    }

    /// The statement text, its bound values as `$n` placeholders numbered in order.
    public var text: String {
        var text = ""
        var number = 0
        for piece in pieces {
            switch piece {
            case .text(let part): text += part
            case .parameter:
                number += 1
                text += "$\(number)"
            }
        }
        return text
    }

    /// The bound values in placeholder order, as PostgreSQL text (nil is NULL).
    public var parameters: [String?] {
        pieces.compactMap { if case .parameter(let value) = $0 { return value } else { return nil } }
    }

    /// True when the fragment holds no text and no value.
    public var isEmpty: Bool { pieces.isEmpty }

    /// The statement text only: bound values are never shown.
    public var description: String { text }

    /// The two fragments one after the other, their parameters renumbered.
    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var sum = lhs
        sum += rhs
        return sum
    }

    public static func += (lhs: inout SQL, rhs: SQL) {
        lhs.pieces += rhs.pieces
    }

    /// Collects literal text and bound values while a literal is interpolated.
    public struct Interpolation: StringInterpolationProtocol {
        var pieces: [Piece] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(interpolationCount * 2 + 1)
        }

        mutating func append(text: String) {
            guard !text.isEmpty else { return }
            if case .text(let last)? = pieces.last {
                pieces[pieces.count - 1] = .text(last + text)
            } else {
                pieces.append(.text(text))
            }
        }

        public mutating func appendLiteral(_ literal: String) {
            append(text: literal)
        }

        /// Binds a value as the next `$n` parameter.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            pieces.append(.parameter(value.postgresText))
        }

        /// Binds an optional value; nil is NULL.
        public mutating func appendInterpolation(_ value: (some PostgresEncodable)?) {
            pieces.append(.parameter(value?.postgresText))
        }

        /// Splices a fragment, with its parameters.
        public mutating func appendInterpolation(_ fragment: SQL) {
            for piece in fragment.pieces {
                if case .text(let text) = piece { append(text: text) } else { pieces.append(piece) }
            }
        }

        /// Binds `values` as one parameter and splices a `text[]` of them
        /// (`string_to_array($n, E'\x1F')`, the unit separator between them): a list of names or
        /// keys for `= ANY(...)` or `unnest(...)`, however long, in one statement.
        public mutating func appendInterpolation(texts values: [String]) {
            append(text: "string_to_array(")
            pieces.append(.parameter(values.joined(separator: "\u{1F}")))
            append(text: ", E'\\x1F')")
        }

        /// Splices a quoted identifier.
        public mutating func appendInterpolation(identifier: String) {
            append(text: quoteIdentifier(identifier))
        }

        /// Splices a schema-qualified, quoted name.
        public mutating func appendInterpolation(schema: String, table: String) {
            append(text: quoteIdentifier(schema) + "." + quoteIdentifier(table))
        }

        /// Splices a quoted string literal: for the statements that take no parameters (DDL) and
        /// for generated SQL that is shown to people and must run as it is shown.
        public mutating func appendInterpolation(literal: String) {
            append(text: quoteLiteral(literal))
        }

        /// Splices a whole number.
        public mutating func appendInterpolation(integer: Int) {
            append(text: String(integer))
        }

        /// Splices an exact decimal number.
        public mutating func appendInterpolation(decimal: Decimal) {
            append(text: decimal.description)
        }

        /// Splices SQL text as it is: only for text that is SQL by contract, never for values.
        public mutating func appendInterpolation(unsafeSQL: String) {
            append(text: unsafeSQL)
        }
    }
}

extension Sequence where Element == SQL {
    /// The fragments one after the other with `separator` between them, their parameters renumbered.
    public func joined(separator: SQL = "") -> SQL {
        var result = SQL(unsafeSQL: "")
        for (index, fragment) in enumerated() {
            if index > 0 { result += separator }
            result += fragment
        }
        return result
    }
}

/// Quotes an identifier for PostgreSQL: wraps it in double quotes and doubles any inside.
///
/// This is the one place identifiers are quoted. A NUL character cannot occur in a PostgreSQL
/// identifier and is dropped.
public func quoteIdentifier(_ name: String) -> String {
    quoted(name, in: "\"")
}

/// Quotes a string literal for PostgreSQL, as `PQescapeLiteral` does: in single quotes, each one
/// inside doubled; text with a backslash becomes an `E'...'` literal with the backslashes doubled,
/// so it means the same whatever `standard_conforming_strings` says.
///
/// The one place literals are quoted. A NUL character cannot occur in PostgreSQL text and is dropped.
public func quoteLiteral(_ text: String) -> String {
    guard text.contains("\\") else { return quoted(text, in: "'") }
    return "E" + quoted(text.replacingOccurrences(of: "\\", with: "\\\\"), in: "'")
}

/// `text` between two `mark`s, each `mark` inside doubled, NUL dropped.
private func quoted(_ text: String, in mark: Unicode.Scalar) -> String {
    var quoted = String(mark)
    for character in text.unicodeScalars where character != "\0" {
        if character == mark { quoted.unicodeScalars.append(mark) }
        quoted.unicodeScalars.append(character)
    }
    quoted.unicodeScalars.append(mark)
    return quoted
}

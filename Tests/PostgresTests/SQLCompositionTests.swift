import Foundation
import Postgres
import Testing

@Suite("SQL fragments compose, their values bound and numbered in the final order")
struct SQLCompositionTests {
    @Test func fragmentsKeepTheirValuesWhenJoinedAndInterpolated() {
        let first: SQL = "a = \(1)"
        let second: SQL = "b = \("x")"
        let both = [first, second, "c IS NULL"].joined(separator: " AND ")
        #expect(both.text == "a = $1 AND b = $2 AND c IS NULL")
        #expect(both.parameters == ["1", "x"])
        let statement: SQL = "SELECT \(Optional<Int>.none) AS n FROM t WHERE \(both) OR d = \(Cents(350))"
        #expect(statement.text == "SELECT $1 AS n FROM t WHERE a = $2 AND b = $3 AND c IS NULL OR d = $4")
        #expect(statement.parameters == [nil, "1", "x", "3.50"])
        #expect((first + " OR " + second).text == "a = $1 OR b = $2")
        #expect([SQL]().joined(separator: ", ").isEmpty)
    }

    @Test func textThatIsSQLByContractIsNeverRenumbered() {
        // An author's fragment may hold a dollar sign: it is text, not a placeholder of ours.
        let author = SQL(unsafeSQL: "note = '$1' AND body = $$x$$")
        let statement: SQL = "SELECT * FROM t WHERE k = \(7) AND \(author) AND j = \(8)"
        #expect(statement.text == "SELECT * FROM t WHERE k = $1 AND note = '$1' AND body = $$x$$ AND j = $2")
        #expect(statement.parameters == ["7", "8"])
    }

    @Test func namesLiteralsAndNumbersAreSplicedQuoted() {
        let statement: SQL = """
            SELECT \(identifier: "we\"ird"), \(literal: "it's"), \(literal: "back\\slash"), \(integer: -3), \(decimal: Decimal(string: "0.01")!) \
            FROM \(schema: "s", table: "t")
            """
        #expect(statement.text == #"SELECT "we""ird", 'it''s', E'back\\slash', -3, 0.01 FROM "s"."t""#)
        #expect(statement.parameters.isEmpty)
        #expect(quoteLiteral("a\u{0}b") == "'ab'")
        #expect(quoteIdentifier("x\u{0}y") == "\"xy\"")
    }

    @Test func quotedLiteralsMeanTheirTextToTheServer() throws {
        let connection = try TestDatabase.connect()
        for text in ["it's", "back\\slash", "two\\\\ and ' and \"", "$1", "日本"] {
            let echoed: String = try connection.query("SELECT \(literal: text)::text").scalar()
            #expect(echoed == text)
        }
        let composed: SQL = "SELECT \(SQL(unsafeSQL: "1 +")) \(41)::int"
        #expect(try connection.query(composed).scalar(Int.self) == 42)
    }

    /// A list of texts is one bound parameter, whatever its values hold (commas, quotes, empty
    /// text), and reaches the server as those texts in order; an empty list is an empty array.
    @Test func aListOfTextsIsOneParameterAndArrivesWhole() throws {
        let values = ["a,b", "it's", "", "\"x\".\"y\"", "日本"]
        let statement: SQL = "SELECT array_to_json(\(texts: values))::text, cardinality(\(texts: []))"
        #expect(statement.text == "SELECT array_to_json(string_to_array($1, E'\\x1F'))::text, cardinality(string_to_array($2, E'\\x1F'))")
        #expect(statement.parameters.count == 2)
        let connection = try TestDatabase.connect()
        let row = try #require(try connection.query(statement).rows.first)
        let echoed = try JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, at: 0).utf8))
        #expect(echoed == values)
        #expect(try row.decode(Int.self, at: 1) == 0)
    }
}

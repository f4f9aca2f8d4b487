import Foundation
import Postgres
import Testing

@Suite("COPY in and out")
struct CopyTests {
    @Test func millionRowsRoundTripWithEqualCountsAndSums() throws {
        let connection = try TestDatabase.connect()
        try connection.execute("CREATE TEMP TABLE moves (id bigint, note text, amount numeric(18,2))")
        let rows = 1_000_000
        var expected = Cents.zero
        let copied = try connection.copyIn("COPY moves FROM STDIN") { writer in
            for id in 1...rows {
                // Amounts from -50.00 to 49.99, notes with characters COPY must escape.
                let amount = Cents(Int64(id % 10_000) - 5_000)
                expected = expected + amount
                try writer.writeRow([String(id), id % 1000 == 0 ? nil : "n\t\\\(id)\n", amount.description])
            }
        }
        #expect(copied == rows)
        let row = try #require(try connection.query("SELECT count(*), sum(amount), count(note) FROM moves").first)
        #expect(try row.decode(Int.self, at: 0) == rows)
        #expect(try row.decode(Cents.self, at: 1) == expected)
        #expect(try row.decode(Int.self, at: 2) == rows - rows / 1000)
        let note: String = try connection.query("SELECT note FROM moves WHERE id = 7").scalar()
        #expect(note == "n\t\\7\n")

        var outRows = 0
        var outSum = Cents.zero
        let exported = try connection.copyOut("COPY moves (amount) TO STDOUT") { chunk in
            outRows += 1
            let text = String(decoding: chunk.dropLast(), as: UTF8.self)
            outSum = outSum + (Cents(text) ?? Cents(Int64.min / 2))
        }
        #expect(exported == rows)
        #expect(outRows == rows)
        #expect(outSum == expected)
    }

    @Test func throwingFeedAbortsTheCopy() throws {
        struct Broken: Error {}
        let connection = try TestDatabase.connect()
        try connection.execute("CREATE TEMP TABLE partial (id int)")
        #expect(throws: Broken.self) {
            try connection.copyIn("COPY partial FROM STDIN") { writer in
                try writer.writeRow(["1"])
                throw Broken()
            }
        }
        #expect(try connection.query("SELECT count(*) FROM partial").scalar(Int.self) == 0)
    }

    @Test func badCopyDataIsAServerErrorWithSQLState() throws {
        let connection = try TestDatabase.connect()
        try connection.execute("CREATE TEMP TABLE typed (id int)")
        let error = try #require(throws: PostgresError.self) {
            try connection.copyIn("COPY typed FROM STDIN (FORMAT csv)") { try $0.write(Array("1\nnot-a-number\n".utf8)) }
        }
        #expect(error.sqlState == "22P02")
        #expect(try connection.query("SELECT count(*) FROM typed").scalar(Int.self) == 0)
    }
}

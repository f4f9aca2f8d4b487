import Foundation
import Postgres
import Testing

@Suite("Statements, errors, transactions and cancellation")
struct StatementTests {
    @Test func boundValueIsNeverSQL() throws {
        let connection = try TestDatabase.connect()
        try connection.execute("CREATE TEMP TABLE victims (name text)")
        let hostile = "'); drop table victims; --"
        try connection.execute("INSERT INTO victims VALUES (\(hostile))")
        let stored: String = try connection.query("SELECT name FROM victims").scalar()
        #expect(stored == hostile)
        let count: Int = try connection.query("SELECT count(*) FROM victims WHERE name = \(hostile)").scalar()
        #expect(count == 1)
    }

    @Test func uniqueViolationCarriesSQLStateAndNoValues() throws {
        let connection = try TestDatabase.connect()
        try connection.execute("CREATE TEMP TABLE keys (id int PRIMARY KEY)")
        try connection.execute("INSERT INTO keys VALUES (\(7))")
        let secret = 7_654_321
        try connection.execute("INSERT INTO keys VALUES (\(secret))")
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("INSERT INTO keys VALUES (\(secret))")
        }
        #expect(error.sqlState == "23505")
        #expect(error.detail?.contains("already exists") == true)
        #expect(error.statement == "INSERT INTO keys VALUES ($1)")
        // The server's DETAIL names the key; our own description adds no bound value beyond it.
        #expect(error.description.contains("STATEMENT: INSERT INTO keys VALUES ($1)"))
    }

    @Test func syntaxErrorCarriesSQLStateAndPosition() throws {
        let connection = try TestDatabase.connect()
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("SELECT 1 FROMM nowhere")
        }
        #expect(error.sqlState == "42601")
        // "FROMM" reads as a column alias, so the error points at "nowhere", character 16.
        #expect(error.position == 16)
        // The connection is still usable after an error.
        #expect(try connection.query("SELECT 1").scalar(Int.self) == 1)
    }

    @Test func boundValuesNeverAppearInErrorDescriptions() throws {
        let connection = try TestDatabase.connect()
        let secret = "card-4111111111111111"
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("SELECT \(secret)::int")
        }
        #expect(error.sqlState == "22P02")
        #expect(error.statement == "SELECT $1::int")
        #expect(!error.statement!.contains(secret))
    }

    @Test func statementTimeoutCancelsCleanly() throws {
        let connection = try TestDatabase.connect()
        try connection.setStatementTimeout(milliseconds: 200)
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("SELECT pg_sleep(30)")
        }
        #expect(error.sqlState == "57014")
        #expect(error.isCancellation)
        try connection.setStatementTimeout(milliseconds: 0)
        #expect(try connection.query("SELECT 2").scalar(Int.self) == 2)
    }

    @Test func cancelTokenStopsARunningStatementFromAnotherThread() throws {
        let connection = try TestDatabase.connect()
        let token = connection.makeCancelToken()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { token.cancel() }
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("SELECT pg_sleep(30)")
        }
        #expect(error.isCancellation)
        #expect(try connection.query("SELECT 3").scalar(Int.self) == 3)
    }

    @Test func transactionCommitsOnReturnAndRollsBackOnThrow() throws {
        struct Planned: Error {}
        let connection = try TestDatabase.connect()
        try connection.execute("CREATE TEMP TABLE ledger (amount numeric(18,2))")
        try connection.transaction { try $0.execute("INSERT INTO ledger VALUES (\(Cents(100)))") }
        #expect(throws: Planned.self) {
            try connection.transaction { connection in
                try connection.execute("INSERT INTO ledger VALUES (\(Cents(999)))")
                throw Planned()
            }
        }
        let total: Cents = try connection.query("SELECT sum(amount) FROM ledger").scalar()
        #expect(total == Cents(100))
        let error = try #require(throws: PostgresError.self) {
            try connection.transaction(readOnly: true) { try $0.execute("CREATE TABLE read_only_probe (id int)") }
        }
        #expect(error.sqlState == "25006")
    }

    @Test func aNestedTransactionIsASavepointAndTheOuterOneDecides() throws {
        struct Planned: Error {}
        let connection = try TestDatabase.connect()
        try connection.execute("CREATE TEMP TABLE nested_ledger (amount numeric(18,2))")
        // The inner block commits nothing by itself: the outer rollback takes its row too.
        #expect(throws: Planned.self) {
            try connection.transaction { outer in
                try outer.transaction { try $0.execute("INSERT INTO nested_ledger VALUES (\(Cents(100)))") }
                throw Planned()
            }
        }
        #expect(try connection.query("SELECT count(*) FROM nested_ledger").scalar(Int.self) == 0)
        // An inner failure rolls back to its savepoint only.
        try connection.transaction { outer in
            try outer.execute("INSERT INTO nested_ledger VALUES (\(Cents(200)))")
            _ = try? outer.transaction { inner in
                try inner.execute("INSERT INTO nested_ledger VALUES (\(Cents(999)))")
                throw Planned()
            }
        }
        let total: Cents = try connection.query("SELECT sum(amount) FROM nested_ledger").scalar()
        #expect(total == Cents(200))
    }

    @Test func streamingVisitsEveryRowAndStopsCleanlyOnThrow() throws {
        struct Enough: Error {}
        let connection = try TestDatabase.connect()
        var count = 0
        var sum: Int64 = 0
        try connection.forEachRow("SELECT g FROM generate_series(1, \(200_000)) g") { row in
            count += 1
            sum += try row.decode(Int64.self, at: 0)
        }
        #expect(count == 200_000)
        #expect(sum == 200_000 * 200_001 / 2)
        var seen = 0
        #expect(throws: Enough.self) {
            try connection.forEachRow("SELECT g FROM generate_series(1, 10000000) g") { _ in
                seen += 1
                if seen == 10 { throw Enough() }
            }
        }
        #expect(seen == 10)
        #expect(try connection.query("SELECT 4").scalar(Int.self) == 4)
    }

    @Test func observerSeesEveryStatementSent() throws {
        let connection = try TestDatabase.connect()
        var seen: [String] = []
        connection.statementObserver = { seen.append($0) }
        try connection.execute("SELECT \(1)")
        try connection.query("SELECT 2")
        #expect(seen == ["SELECT $1", "SELECT 2"])
    }

    @Test func identifiersAreQuotedInOnePlace() {
        #expect(quoteIdentifier("orders") == "\"orders\"")
        #expect(quoteIdentifier("we\"ird") == "\"we\"\"ird\"")
        let sql: SQL = "SELECT * FROM \(schema: "rc_x_ods", table: "a\"b") WHERE id = \(5)"
        #expect(sql.text == "SELECT * FROM \"rc_x_ods\".\"a\"\"b\" WHERE id = $1")
        #expect(sql.parameters == ["5"])
    }
}

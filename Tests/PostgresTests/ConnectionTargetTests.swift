import Postgres
import Testing

@Suite("Connection targets never leak passwords")
struct ConnectionTargetTests {
    @Test func passwordsAreMaskedInEveryForm() {
        #expect(maskPassword(in: "postgres://alice:s3cret@db:5432/wh?sslmode=require")
            == "postgres://alice:***@db:5432/wh?sslmode=require")
        #expect(maskPassword(in: "postgresql://alice@db/wh?password=s3cret&sslmode=disable")
            == "postgresql://alice@db/wh?password=***&sslmode=disable")
        #expect(maskPassword(in: "host=db password=s3cret dbname=wh") == "host=db password=*** dbname=wh")
        #expect(maskPassword(in: "host=db password = 'se cret' dbname=wh") == "host=db password=*** dbname=wh")
        #expect(maskPassword(in: "postgres://db/wh") == "postgres://db/wh")
    }

    @Test func connectionFailureNeverPrintsThePassword() throws {
        let error = try #require(throws: PostgresError.self) {
            _ = try Connection(.url("postgres://alice:TopSecret99@127.0.0.1:1/wh?connect_timeout=2"))
        }
        #expect(error.kind == .connection)
        #expect(!error.description.contains("TopSecret99"))
        #expect(error.description.contains("alice:***@127.0.0.1:1"))
    }
}

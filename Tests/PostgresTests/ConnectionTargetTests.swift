import Postgres
import Testing

@Suite("Connection targets never leak passwords")
struct ConnectionTargetTests {
    @Test func passwordsAreMaskedInEveryForm() {
        #expect(maskPassword(in: "postgres://alice:s3cret@db:5432/wh?sslmode=require")
            == "postgres://alice:***@db:5432/wh?sslmode=require")
        #expect(maskPassword(in: "postgresql://alice@db/wh?password=s3cret&sslmode=disable")
            == "postgresql://alice:***@db/wh?sslmode=disable")
        #expect(maskPassword(in: "host=db password=s3cret dbname=wh") == "password=*** dbname=wh host=db")
        #expect(maskPassword(in: "host=db password = 'se cret' dbname=wh") == "password=*** dbname=wh host=db")
        #expect(maskPassword(in: "postgres://db/wh") == "postgres://db/wh")
        #expect(maskPassword(in: "") == "(PG* environment)")
    }

    /// Forms a hand-written scanner missed: tabs and newlines around `=`, escaped quotes, an
    /// encoded URL password, several hosts, the `sslpassword` secret, a socket directory.
    @Test(arguments: [
        "host=db password\t=\tS3cretPW dbname=wh",
        "host=db\npassword\n=\nS3cretPW",
        "host=db password='S3cret\\'PW x' dbname=wh",
        "postgres://alice:S3cret%50W@db/wh",
        "postgresql://alice:S3cretPW@h1:5432,h2:5433/wh?target_session_attrs=read-write",
        "postgresql:///wh?host=/tmp&password=S3cretPW",
        "host=db sslpassword=S3cretPW sslkey=/k",
    ])
    func libpqFormsAreMasked(conninfo: String) throws {
        let masked = maskPassword(in: conninfo)
        #expect(!masked.contains("S3cret"), "\(masked)")
        #expect(masked.contains("***"), "\(masked)")
    }

    @Test func urlFormKeepsItsShape() {
        #expect(maskPassword(in: "postgresql://alice:pw@h1:5432,h2:5433/wh?target_session_attrs=read-write")
            == "postgresql://alice:***@h1:5432,h2:5433/wh?target_session_attrs=read-write")
        #expect(maskPassword(in: "postgresql:///wh?host=/tmp&password=pw") == "postgresql:///wh?password=***&host=%2Ftmp")
    }

    @Test func anUnreadableStringShowsNothingOfItself() throws {
        #expect(maskPassword(in: "host=db S3cretPW") == "(a connection string libpq cannot read)")
        let error = try #require(throws: PostgresError.self) { _ = try Connection(.keywords("host=db S3cretPW")) }
        #expect(!error.description.contains("S3cret"), "\(error)")
        #expect(error.message.contains("cannot read the connection string"))
    }

    @Test func replacingOptionsKeepsTheRest() throws {
        let target = ConnectionTarget.url("postgres://alice:pw@db:5433/wh?sslmode=disable")
        let reader = try target.replacing(["user": "reader", "password": "it's secret"])
        let options = try reader.options()
        #expect(options.first { $0.keyword == "user" }?.value == "reader")
        #expect(options.first { $0.keyword == "password" }?.value == "it's secret")
        #expect(options.first { $0.keyword == "port" }?.value == "5433")
        #expect(options.first { $0.keyword == "sslmode" }?.value == "disable")
        #expect(!reader.description.contains("secret"))
        #expect(try ConnectionTarget.environment.replacing(["user": "r"]).conninfo == "user=r")
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

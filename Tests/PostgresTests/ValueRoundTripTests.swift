import Foundation
import Postgres
import Testing

@Suite("Typed values round-trip through PostgreSQL")
struct ValueRoundTripTests {
    @Test func everySupportedTypeRoundTripsWithNulls() throws {
        let connection = try TestDatabase.connect()
        try connection.execute("""
            CREATE TEMP TABLE typed (t text, i int, b bigint, n numeric(18,2), f boolean, d date, ts timestamptz)
            """)
        let instant = try #require(TimestampParser.parse("2026-10-31T23:30:00.123456+01:00"))
        let day = try #require(CalendarDate("2026-02-28"))
        let text = "O'Brien \"quoted\" \\ tab\t naïve €"
        try connection.execute("""
            INSERT INTO typed VALUES (\(text), \(Int32(-2_147_483_648)), \(Int64.max), \(Cents(9_999_999_999_999_999)),
                                      \(true), \(day), \(instant))
            """)
        try connection.execute("INSERT INTO typed VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
        let rows = try connection.query("SELECT t, i, b, n, n, f, d, ts FROM typed ORDER BY t NULLS LAST").rows
        #expect(rows.count == 2)
        #expect(try rows[0].decode(String.self, at: 0) == text)
        #expect(try rows[0].decode(Int32.self, at: 1) == Int32.min)
        #expect(try rows[0].decode(Int64.self, at: 2) == Int64.max)
        #expect(try rows[0].decode(Cents.self, at: 3) == Cents(9_999_999_999_999_999))
        #expect(try rows[0].decode(Decimal.self, at: 4) == Decimal(string: "99999999999999.99"))
        #expect(try rows[0].decode(Bool.self, at: 5) == true)
        #expect(try rows[0].decode(CalendarDate.self, at: 6) == day)
        #expect(try rows[0].decode(Date.self, at: 7) == instant)
        for column in 0..<8 {
            #expect(try rows[1].decode(String?.self, at: column) == nil)
        }
        #expect(try rows[1].decode(Cents?.self, at: 3) == nil)
        #expect(throws: PostgresError.self) { try rows[1].decode(Int.self, at: 1) }
    }

    @Test func numericKeepsEveryCent() throws {
        let connection = try TestDatabase.connect()
        let values = ["99999999999999.99", "-0.01", "0.10", "-99999999999999.99", "12.30"]
        for value in values {
            let row = try #require(try connection.query("SELECT \(value)::numeric(18,2), \(value)::numeric(18,2)").first)
            let cents: Cents = try row.decode(at: 0)
            let decimal: Decimal = try row.decode(at: 1)
            #expect(cents == Cents(value))
            #expect(decimal == Decimal(string: value))
            #expect(Cents(value)?.description == String(value.drop { $0 == "+" }))
        }
        let sum: Cents = try connection.query("SELECT sum(x) FROM unnest(ARRAY[0.10, 0.20]::numeric[]) x").scalar()
        #expect(sum == Cents(30))
    }

    @Test func centsRefusesLosingPrecision() throws {
        let connection = try TestDatabase.connect()
        #expect(throws: PostgresError.self) {
            let _: Cents = try connection.query("SELECT 1.005::numeric").scalar()
        }
        #expect(Cents("1.230") == Cents(123))
        #expect(Cents("1.5") == Cents(150))
        #expect(Cents("abc") == nil)
        #expect(Cents("") == nil)
        #expect(Cents("1.2.3") == nil)
        #expect(Cents("-") == nil)
    }

    @Test func timestampsParseEveryOffsetForm() throws {
        let utc = try #require(TimestampParser.parse("2026-10-03T10:15:00Z"))
        #expect(TimestampParser.parse("2026-10-03 12:15:00+02") == utc)
        #expect(TimestampParser.parse("2026-10-03 05:45:00-04:30") == utc)
        #expect(TimestampParser.parse("2026-10-03T15:45:00+0530") == utc)
        #expect(TimestampParser.parse("2026-10-03 10:15:00") == nil)
        #expect(TimestampParser.parse("2026-10-03 10:15:00", defaultOffsetSeconds: 0) == utc)
        #expect(TimestampParser.parse("2026-13-03T10:15:00Z") == nil)
        #expect(utc.timeIntervalSince1970 == 1_791_022_500)
    }

    @Test func calendarDatesCountDaysExactly() throws {
        let day = try #require(CalendarDate("2024-02-28"))
        #expect(day.adding(days: 1).description == "2024-02-29")
        #expect(day.adding(days: 2).description == "2024-03-01")
        #expect(CalendarDate(daysSinceEpoch: 0).description == "1970-01-01")
        #expect(CalendarDate("2026-11-30")?.weekdayIndex == 0)
        #expect(CalendarDate("2025-02-29") == nil)
    }
}

import Foundation
import Postgres
import Testing

@testable import FundRecon

/// An hourly import reads only the blocks of an extract whose hours meet its window, and loads
/// exactly what reading the whole file loads.
@Suite("Extract indexes: an hour's import reads the hour's blocks and loads what a whole read loads")
struct ExtractIndexTests {
    static let start = Date(timeIntervalSince1970: 1_790_812_800)  // 2026-10-01T00:00:00Z

    /// 6,000 orders, 100 an hour in time order, every 40th dated 30 hours later (a record in key
    /// order far from its neighbours' time), one with a bad amount and one without a time.
    static func orders() -> String {
        let formatter = ISO8601DateFormatter()
        var text = ordersHeader
        for id in 1...6_000 {
            var at = start.addingTimeInterval(Double(id - 1) * 36)
            if id % 40 == 0 { at = at.addingTimeInterval(30 * 3600) }
            let amount = id == 2_500 ? "12,5O" : "10.00"
            let time = id == 3_333 ? "" : formatter.string(from: at)
            text += "\(id),1,1,web,,EUR,\(amount),,0.00,paid,\(time)\n"
        }
        return text
    }

    /// Loads the window [from, until) of the fixture; returns the order ids loaded, the rejected
    /// lines, the report and what the loaded rows' lines were.
    static func load(_ directory: String, from: Date?, until: Date, index: ExtractIndex?, rejected: Set<Int> = [])
        throws -> (ids: [Int], rejects: [Int], report: LoadReport)
    {
        let run = try RunSession(on: SharedCluster.target(), logger: quietLogger)
        defer { try? run.close() }
        var window = LoadWindow(until: until, filesDueBefore: CalendarDate(year: 2026, month: 10, day: 1)!)
        window.from["orders"] = from
        window.rejectedLines["oltp/orders.csv"] = rejected
        if let index { window.extractIndexes["oltp/orders.csv"] = index }
        try Ingest.prepare(schemas: run.schemas, connection: run.connection)
        let report = try Ingest.load(dataset: directory, part: .extracts, schemas: run.schemas, connection: run.connection,
                                     logger: quietLogger, window: window)
        let ods = run.schemas.name(.ods)
        let ids = try run.connection.query("SELECT order_id FROM \(schema: ods, table: "ods_orders") ORDER BY 1").rows
            .map { try $0.decode(Int.self, at: 0) }
        let rejects = try run.connection.query("SELECT line FROM \(schema: ods, table: "ods_rejects") WHERE file = 'oltp/orders.csv' ORDER BY 1")
            .rows.map { try $0.decode(Int.self, at: 0) }
        return (ids, rejects, report)
    }

    @Test func anHoursImportReadsItsBlocksAndLoadsWhatAWholeReadLoads() throws {
        let fixture = FixtureDataset()
        defer { fixture.remove() }
        try fixture.write("oltp/orders.csv", Self.orders())
        // The first import (the first 20 hours) reads the file whole, indexes it, and rejects the
        // two bad lines whatever their time.
        let first = try Self.load(fixture.directory, from: nil, until: Self.start.addingTimeInterval(20 * 3600), index: nil)
        let index = try #require(first.report.extractIndexes["oltp/orders.csv"])
        #expect(index.blocks.count == (6_000 + ExtractIndex.blockRows - 1) / ExtractIndex.blockRows)  // 6,000 records
        #expect(first.rejects == [2_501, 3_334])
        #expect(ExtractIndex(sha256: index.sha256, text: index.text) == index)
        // Stored by hour, read whole or for a window's hours: the same blocks for that window.
        #expect(ExtractIndex(sha256: index.sha256, hourRows: index.hourRows) == index)
        let hour40 = (Self.start.addingTimeInterval(40 * 3600), Self.start.addingTimeInterval(41 * 3600))
        let window = try #require(ExtractIndex.hours(from: hour40.0, until: hour40.1))
        let partial = try #require(ExtractIndex(sha256: index.sha256, hourRows: index.hourRows.filter { window.contains($0.hour) }))
        #expect(partial.blocks(from: hour40.0, until: hour40.1).map(\.offset) == index.blocks(from: hour40.0, until: hour40.1).map(\.offset))
        #expect(partial.blocks.count < index.blocks.count)

        // Hour 40: the rows of hour 40 (ids 4,001-4,100) and the late ones dated then (ids of hour 10).
        let (from, until) = (Self.start.addingTimeInterval(40 * 3600), Self.start.addingTimeInterval(41 * 3600))
        let blocks = index.blocks(from: from, until: until)
        #expect(blocks.count < index.blocks.count)
        let indexed = try Self.load(fixture.directory, from: from, until: until, index: index, rejected: [2_501, 3_334])
        let whole = try Self.load(fixture.directory, from: from, until: until, index: nil, rejected: [2_501, 3_334])
        let expected = (4_001...4_100).filter { $0 % 40 != 0 } + (1_001...1_100).filter { $0 % 40 == 0 }
        #expect(indexed.ids == expected.sorted())
        #expect(indexed.ids == whole.ids)
        #expect(indexed.rejects.isEmpty && whole.rejects.isEmpty)
        // A read that uses an index does not index again; one of other content is not used.
        #expect(indexed.report.extractIndexes.isEmpty)
        var stale = index
        stale.sha256 = String(repeating: "0", count: 64)
        let restale = try Self.load(fixture.directory, from: from, until: until, index: stale, rejected: [2_501, 3_334])
        #expect(restale.ids == expected.sorted())
        #expect(restale.report.extractIndexes["oltp/orders.csv"] == index)
    }
}

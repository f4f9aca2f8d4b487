import Foundation

/// Where an OLTP extract's rows lie in time, block by block (`blockRows` records each, with the UTC
/// hours their event times fall in): an import of one period reads only the blocks with an hour in
/// its window, so an hourly run over a month-long extract reads the hour's rows and the few blocks
/// around them, not the month. Hours, not a block's first and last time: an extract in key order
/// (a commission's reversal beside its charge) spreads a block over the month. An index holds for
/// the content it was taken from (its SHA-256); a changed file is read whole and indexed again.
///
/// Skipping a block is exact: every record of a block without a readable event time (a framing
/// problem, a wrong column count, an unreadable time) was rejected by the read that indexed it,
/// whatever that read's window, and the other rows of a skipped block lie outside the window.
public struct ExtractIndex: Sendable, Equatable {
    public struct Block: Sendable, Equatable {
        /// The byte offset and line of the block's first record.
        public var offset: Int
        public var line: Int
        /// The byte offset after its last record.
        public var end: Int
        /// The UTC hours (since 1970) its event times fall in, as sorted ranges.
        public var hours: [ClosedRange<Int>]
    }

    public var sha256: String

    // The blocks, flat: block i starts at offsets[i] (line lines[i]) and ends at ends[i], and its
    // hours are the ranges hourRanges[rangeStarts[i]..<rangeStarts[i + 1]] (first and last hour).
    // A 10,000,000-order month's first read holds the index of every extract at once: with a Block
    // value a block, each with an array of its own for the hours, that read peaked at 77 MB (1.6x
    // its 47 MB at 1,000,000 orders); flat, at 64 MB (1.4x its 46 MB).
    private var offsets: [Int] = []
    private var lines: [Int] = []
    private var ends: [Int] = []
    private var rangeStarts: [Int32] = [0]
    private var hourRanges: [SIMD2<Int32>] = []

    /// The blocks in file order.
    public var blocks: [Block] { offsets.indices.map(block) }

    /// Block `position` as a value.
    func block(_ position: Int) -> Block {
        Block(offset: offsets[position], line: lines[position], end: ends[position], hours: hours(of: position).map(Self.range))
    }

    /// The hour ranges of block `position`.
    private func hours(of position: Int) -> ArraySlice<SIMD2<Int32>> {
        hourRanges[Int(rangeStarts[position])..<Int(rangeStarts[position + 1])]
    }

    private static func range(_ pair: SIMD2<Int32>) -> ClosedRange<Int> { Int(pair.x)...Int(pair.y) }

    /// Sorted hours (repeats allowed) as the fewest ranges of consecutive hours.
    private static func ranges(ofSorted hours: [Int]) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        for hour in hours {
            if let previous = ranges.last, hour <= previous.upperBound + 1 {
                ranges[ranges.count - 1] = previous.lowerBound...max(previous.upperBound, hour)
            } else {
                ranges.append(hour...hour)
            }
        }
        return ranges
    }

    /// Appends a block (the builder and the stored forms: each gives its hours sorted and merged).
    private mutating func append(offset: Int, line: Int, end: Int, hours: [ClosedRange<Int>]) {
        offsets.append(offset)
        lines.append(line)
        ends.append(end)
        hourRanges += hours.map { SIMD2(Int32(clamping: $0.lowerBound), Int32(clamping: $0.upperBound)) }
        rangeStarts.append(Int32(hourRanges.count))
    }

    /// Room for `blocks` blocks of about `ranges` hour ranges each (at least one).
    private mutating func reserve(blocks: Int, ranges: Int) {
        offsets.reserveCapacity(blocks)
        lines.reserveCapacity(blocks)
        ends.reserveCapacity(blocks)
        rangeStarts.reserveCapacity(blocks + 1)
        hourRanges.reserveCapacity(blocks * max(1, ranges))
    }

    /// Records per block: an hour's import reads every block holding one of its records, and in an
    /// extract in key order each of its reversals lies in a block of its charge's day, each refund in
    /// one of its order's. At 10,000,000 orders a month an hour's import read, outside its window,
    /// 800,000 commissions with 1,024 records a block; 212,000 commissions and 129,000 refunds with
    /// 256 (278-298 ms); 107,000 and 81,000 with 128 (156-173 ms). 64 would read 52,000 and 46,000
    /// (121 ms), but the first whole read, which holds every extract's index, then peaked at 85 MB
    /// against 70 MB with 128 (48 MB at 1,000,000 orders either way).
    static let blockRows = 128

    /// The UTC hours (since 1970) of [from, until), nil when it is empty.
    static func hours(from: Date?, until: Date) -> ClosedRange<Int>? {
        let first = from.map { Int(($0.timeIntervalSince1970 / 3600).rounded(.down)) } ?? .min
        let last = until == .distantFuture ? Int.max : Int((until.timeIntervalSince1970 / 3600).rounded(.up)) - 1
        return first <= last ? first...last : nil
    }

    /// The blocks with an event time that may lie in [from, until).
    func blocks(from: Date?, until: Date) -> [Block] {
        guard let window = Self.hours(from: from, until: until) else { return [] }
        return offsets.indices.filter { hours(of: $0).contains { Self.range($0).overlaps(window) } }.map(block)
    }

    /// The stored form by hour (`recon_meta.extract_index_hours`): for each UTC hour, the blocks
    /// holding a record of it as `offset line end` separated by `;`. An import reads the rows of
    /// its window's hours only, so its cost does not grow with the month the extract spans.
    var hourRows: [(hour: Int, blocks: String)] {
        let byHour = blocksByHour
        return byHour.keys.sorted().map { ($0, text(of: byHour[$0]!)) }
    }

    /// Per UTC hour, the positions of the blocks holding a record of it (numbers, not texts: a
    /// 10,000,000-order month has about a million pairs of block and hour).
    var blocksByHour: [Int: [Int32]] {
        var byHour: [Int: [Int32]] = [:]
        for position in offsets.indices {
            for pair in hours(of: position) {
                for hour in Self.range(pair) { byHour[hour, default: []].append(Int32(position)) }
            }
        }
        return byHour
    }

    /// The stored text of the blocks at `positions`.
    func text(of positions: [Int32]) -> String {
        positions.map { position in
            let position = Int(position)
            return "\(offsets[position]) \(lines[position]) \(ends[position])"
        }.joined(separator: ";")
    }

    /// Reads the stored form by hour, or the rows of some hours of it (the blocks then carry only
    /// those hours, which is all `blocks(from:until:)` needs within them); nil when it does not read.
    init?(sha256: String, hourRows: [(hour: Int, blocks: String)]) {
        self.sha256 = sha256
        var byOffset: [Int: (line: Int, end: Int, hours: [Int])] = [:]
        for (hour, text) in hourRows {
            for entry in text.split(separator: ";") {
                let parts = entry.split(separator: " ")
                guard parts.count == 3, let offset = Int(parts[0]), let line = Int(parts[1]), let end = Int(parts[2]) else { return nil }
                byOffset[offset, default: (line, end, [])].hours.append(hour)
            }
        }
        for offset in byOffset.keys.sorted() {
            let found = byOffset[offset]!
            append(offset: offset, line: found.line, end: found.end, hours: Self.ranges(ofSorted: found.hours.sorted()))
        }
    }

    /// The stored form of earlier versions (still read): one line per block, `offset line end hour-hour hour ...`.
    var text: String {
        offsets.indices.map { position in
            ([String(offsets[position]), String(lines[position]), String(ends[position])]
                + hours(of: position).map { $0.x == $0.y ? String($0.x) : "\($0.x)-\($0.y)" })
                .joined(separator: " ")
        }.joined(separator: "\n")
    }

    /// Reads that form; nil when it does not read (the file is then read whole).
    init?(sha256: String, text: String) {
        self.sha256 = sha256
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count >= 3, let offset = Int(parts[0]), let number = Int(parts[1]), let end = Int(parts[2]) else { return nil }
            var hours: [ClosedRange<Int>] = []
            for part in parts.dropFirst(3) {
                let bounds = part.split(separator: "-", maxSplits: 1).compactMap { Int($0) }
                guard (1...2).contains(bounds.count), bounds[0] <= bounds[bounds.count - 1] else { return nil }
                hours.append(bounds[0]...bounds[bounds.count - 1])
            }
            append(offset: offset, line: number, end: end, hours: hours)
        }
    }

    init(sha256: String) { self.sha256 = sha256 }

    /// Builds an index record by record while a file is read whole.
    struct Builder {
        private(set) var index: ExtractIndex
        private var rows = 0
        private var open: (offset: Int, line: Int)?
        private var hours: Set<Int> = []

        /// The file's size in bytes, when known: once the first block is read, the arrays are
        /// sized for the blocks the file will hold (grown by doubling, they held up to twice that).
        private let fileBytes: Int?

        init(sha256: String, fileBytes: Int? = nil) {
            index = ExtractIndex(sha256: sha256)
            self.fileBytes = fileBytes
        }

        /// A data record at `offset` and `line`, with its event time when it has a readable one.
        mutating func add(offset: Int, line: Int, event: Date?) {
            if open == nil || rows == ExtractIndex.blockRows {
                close(at: offset)
                open = (offset, line)
                rows = 0
            }
            rows += 1
            if let event { hours.insert(Int((event.timeIntervalSince1970 / 3600).rounded(.down))) }
        }

        /// The finished index: the last block runs to the end of the file.
        mutating func finish() -> ExtractIndex {
            close(at: .max)
            return index
        }

        private mutating func close(at end: Int) {
            guard let block = open else { return }
            let ranges = ExtractIndex.ranges(ofSorted: hours.sorted())
            if index.offsets.isEmpty, let fileBytes, end > block.offset, end != .max {
                index.reserve(blocks: fileBytes / (end - block.offset) + 2, ranges: ranges.count)
            }
            index.append(offset: block.offset, line: block.line, end: end, hours: ranges)
            open = nil
            hours.removeAll(keepingCapacity: true)
        }
    }
}

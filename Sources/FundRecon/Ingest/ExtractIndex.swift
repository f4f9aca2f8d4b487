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
    public var blocks: [Block] = []

    /// Records per block: an hour's import reads every block holding one of its records, and in an
    /// extract in key order each of its reversals lies in a block of its charge's day (1,024 records
    /// made a 10,000,000-order month's hour read 800,000 commissions outside its window).
    static let blockRows = 256

    /// The UTC hours (since 1970) of [from, until), nil when it is empty.
    static func hours(from: Date?, until: Date) -> ClosedRange<Int>? {
        let first = from.map { Int(($0.timeIntervalSince1970 / 3600).rounded(.down)) } ?? .min
        let last = until == .distantFuture ? Int.max : Int((until.timeIntervalSince1970 / 3600).rounded(.up)) - 1
        return first <= last ? first...last : nil
    }

    /// The blocks with an event time that may lie in [from, until).
    func blocks(from: Date?, until: Date) -> [Block] {
        guard let window = Self.hours(from: from, until: until) else { return [] }
        return blocks.filter { block in block.hours.contains { $0.overlaps(window) } }
    }

    /// The stored form by hour (`recon_meta.extract_index_hours`): for each UTC hour, the blocks
    /// holding a record of it as `offset line end` separated by `;`. An import reads the rows of
    /// its window's hours only, so its cost does not grow with the month the extract spans.
    var hourRows: [(hour: Int, blocks: String)] {
        let byHour = blocksByHour
        return byHour.keys.sorted().map { ($0, text(of: byHour[$0]!)) }
    }

    /// Per UTC hour, the positions in `blocks` of the blocks holding a record of it (numbers, not
    /// texts: a 10,000,000-order month has about a million pairs of block and hour).
    var blocksByHour: [Int: [Int32]] {
        var byHour: [Int: [Int32]] = [:]
        for (position, block) in blocks.enumerated() {
            for range in block.hours {
                for hour in range { byHour[hour, default: []].append(Int32(position)) }
            }
        }
        return byHour
    }

    /// The stored text of the blocks at `positions`.
    func text(of positions: [Int32]) -> String {
        positions.map { position in
            let block = blocks[Int(position)]
            return "\(block.offset) \(block.line) \(block.end)"
        }.joined(separator: ";")
    }

    /// Reads the stored form by hour, or the rows of some hours of it (the blocks then carry only
    /// those hours, which is all `blocks(from:until:)` needs within them); nil when it does not read.
    init?(sha256: String, hourRows: [(hour: Int, blocks: String)]) {
        self.sha256 = sha256
        var byOffset: [Int: Block] = [:]
        for (hour, text) in hourRows {
            for entry in text.split(separator: ";") {
                let parts = entry.split(separator: " ")
                guard parts.count == 3, let offset = Int(parts[0]), let line = Int(parts[1]), let end = Int(parts[2]) else { return nil }
                byOffset[offset, default: Block(offset: offset, line: line, end: end, hours: [])].hours.append(hour...hour)
            }
        }
        blocks = byOffset.keys.sorted().map { offset in
            var block = byOffset[offset]!
            var ranges: [ClosedRange<Int>] = []
            for hour in block.hours.map(\.lowerBound).sorted() {
                if let previous = ranges.last, previous.upperBound + 1 >= hour {
                    ranges[ranges.count - 1] = previous.lowerBound...max(previous.upperBound, hour)
                } else {
                    ranges.append(hour...hour)
                }
            }
            block.hours = ranges
            return block
        }
    }

    /// The stored form of earlier versions (still read): one line per block, `offset line end hour-hour hour ...`.
    var text: String {
        blocks.map { block in
            ([String(block.offset), String(block.line), String(block.end)]
                + block.hours.map { $0.count == 1 ? String($0.lowerBound) : "\($0.lowerBound)-\($0.upperBound)" })
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
            blocks.append(Block(offset: offset, line: number, end: end, hours: hours))
        }
    }

    init(sha256: String) { self.sha256 = sha256 }

    /// Builds an index record by record while a file is read whole.
    struct Builder {
        private(set) var index: ExtractIndex
        private var rows = 0
        private var hours: Set<Int> = []

        init(sha256: String) { index = ExtractIndex(sha256: sha256) }

        /// A data record at `offset` and `line`, with its event time when it has a readable one.
        mutating func add(offset: Int, line: Int, event: Date?) {
            if index.blocks.isEmpty || rows == ExtractIndex.blockRows {
                close(at: offset)
                index.blocks.append(Block(offset: offset, line: line, end: .max, hours: []))
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

        private mutating func close(at offset: Int) {
            guard !index.blocks.isEmpty else { return }
            let last = index.blocks.count - 1
            index.blocks[last].end = offset
            var ranges: [ClosedRange<Int>] = []
            for hour in hours.sorted() {
                if let previous = ranges.last, previous.upperBound + 1 == hour {
                    ranges[ranges.count - 1] = previous.lowerBound...hour
                } else {
                    ranges.append(hour...hour)
                }
            }
            index.blocks[last].hours = ranges
            hours.removeAll(keepingCapacity: true)
        }
    }
}

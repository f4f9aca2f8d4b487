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

    static let blockRows = 1_024

    /// The blocks with an event time that may lie in [from, until).
    func blocks(from: Date?, until: Date) -> [Block] {
        let first = from.map { Int(($0.timeIntervalSince1970 / 3600).rounded(.down)) } ?? .min
        let last = until == .distantFuture ? Int.max : Int((until.timeIntervalSince1970 / 3600).rounded(.up)) - 1
        guard first <= last else { return [] }
        return blocks.filter { block in block.hours.contains { $0.upperBound >= first && $0.lowerBound <= last } }
    }

    /// The stored form: one line per block, `offset line end hour-hour hour ...`.
    var text: String {
        blocks.map { block in
            ([String(block.offset), String(block.line), String(block.end)]
                + block.hours.map { $0.count == 1 ? String($0.lowerBound) : "\($0.lowerBound)-\($0.upperBound)" })
                .joined(separator: " ")
        }.joined(separator: "\n")
    }

    /// Reads the stored form; nil when it does not read (the file is then read whole).
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

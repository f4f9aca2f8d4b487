import Foundation

/// One CSV record: its fields (unquoted, unescaped), where it starts, and its raw bytes.
struct CSVRecord {
    /// The field bytes, concatenated; `bounds` cuts them apart.
    var bytes: [UInt8] = []
    /// Each field's range in `bytes`.
    var bounds: [Range<Int>] = []
    /// The raw record of a quoted record (for an unquoted one, `bytes` is the raw record).
    var raw: [UInt8] = []
    /// True when the record had quotes, so `raw` differs from `bytes`.
    var quoted = false
    /// The 1-based line on which the record starts.
    var line = 0
    /// The byte offset in the file at which the record starts.
    var offset = 0
    /// Why the record could not be framed (a quoted field that never closes): it is to be
    /// rejected, and the reader went on at the line after its first one.
    var framingProblem: String?
    /// True when the record is known to hold only ASCII bytes other than NUL, backslash, tab and
    /// carriage return: its encoding needs no check and its fields no escaping for COPY. False
    /// means "not known" (a quoted record is not scanned for it).
    var plain = false

    var count: Int { bounds.count }

    func field(_ index: Int) -> ArraySlice<UInt8> { bytes[bounds[index]] }

    func string(_ index: Int) -> String { String(decoding: field(index), as: UTF8.self) }

    /// The record as it stood in the file (without its line break), for `ods_rejects`.
    var rawBytes: [UInt8] { quoted ? raw : bytes }

    var rawText: String { String(decoding: rawBytes, as: UTF8.self) }
}

/// Streams RFC 4180 records from a file in fixed-size chunks: a UTF-8 BOM is skipped, CRLF and LF
/// both end records, quoted fields may hold commas, quotes and line breaks. Memory stays at one
/// chunk plus one record.
///
/// A quoted field that reaches the end of the file, or runs past `maxRecordLines` lines or
/// `maxRecordBytes` bytes, cannot be told from a stray quote: its record comes back with a
/// `framingProblem` and only its first line, and reading goes on at the next line, so one stray
/// `"` costs one record, never the rest of the file.
final class CSVReader {
    /// The most lines one quoted record may span.
    static let maxRecordLines = 100
    /// The most bytes one record may hold.
    static let maxRecordBytes = 1 << 20

    private let handle: FileHandle
    private var chunk: [UInt8] = []
    /// The file offset of `chunk[0]`.
    private var chunkStart = 0
    /// The file offset the reader ends at (after a `seek` with a length).
    private var stop: Int?
    private var position = 0
    private var atEnd = false
    private var line = 1
    private var first = true
    /// Every byte read goes through it, so a file's checksum needs no second read.
    private var hasher = SHA256()
    private var lineBreaks = 0
    let path: String

    /// Opens `path`; a directory, or anything that is not a readable file, is an `InputError`.
    init(path: String, shownAs name: String? = nil) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: name ?? path, message: "the file does not exist")
        }
        guard !isDirectory.boolValue else {
            throw InputError(file: name ?? path, message: "is a directory, not a CSV file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: name ?? path, message: "cannot open the file (permissions?)")
        }
        self.handle = handle
        self.path = path
    }

    deinit {
        try? handle.close()
    }

    private func refill() throws -> Bool {
        guard !atEnd else { return false }
        let data: Data?
        do {
            let next = chunkStart + chunk.count
            let count = stop.map { min(1 << 18, $0 - next) } ?? 1 << 18
            data = count > 0 ? try handle.read(upToCount: count) : nil
        } catch {
            throw InputError(file: path, line: line, message: "cannot read the file: \(error.localizedDescription)")
        }
        guard let data, !data.isEmpty else {
            atEnd = true
            return false
        }
        chunkStart += chunk.count
        chunk = [UInt8](data)
        chunk.withUnsafeBufferPointer { buffer in
            hasher.update(buffer)
            lineBreaks += SHA256.countLineBreaks(buffer)
        }
        position = 0
        if first {
            first = false
            if chunk.count >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { position = 3 }
        }
        return true
    }

    @inline(__always) private func nextByte() throws -> UInt8? {
        if position >= chunk.count { guard try refill() else { return nil } }
        let byte = chunk[position]
        position += 1
        return byte
    }

    @inline(__always) private func peekByte() throws -> UInt8? {
        if position >= chunk.count { guard try refill() else { return nil } }
        return chunk[position]
    }

    /// The fast path: a whole line inside the current chunk, without quotes, is copied once and cut
    /// at its commas, in one pass that also notes whether it is `plain`. Anything else (quotes, a
    /// line across the chunk's end) returns false untouched.
    private func nextUnquotedLine(into record: inout CSVRecord) -> Bool {
        let start = position
        let scanned = chunk.withUnsafeBufferPointer { buffer -> (end: Int, plain: Bool)? in
            guard start < buffer.count, let base = buffer.baseAddress,
                  let hit = memchr(base + start, 0x0A, buffer.count - start) else { return nil }
            var stop = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
            let end = stop
            if stop > start, buffer[stop - 1] == 0x0D { stop -= 1 }
            // Bytes below 0x20 or from 0x80 need a closer look; of them only tab, CR and NUL matter
            // here, and a backslash (0x5C) needs escaping in COPY.
            var unusual = false
            for index in start..<stop {
                let byte = buffer[index]
                if byte == 0x22 { return nil }
                unusual = unusual || byte < 0x20 || byte >= 0x80 || byte == 0x5C
            }
            record.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<stop]))
            var fieldStart = 0
            for index in start..<stop where buffer[index] == 0x2C {
                record.bounds.append(fieldStart..<(index - start))
                fieldStart = index - start + 1
            }
            record.bounds.append(fieldStart..<(stop - start))
            return (end, !unusual)
        }
        guard let scanned else { return false }
        record.plain = scanned.plain
        position = scanned.end + 1
        line += 1
        return true
    }

    /// The SHA-256 of the whole file and its line feeds, taken while it was read (what was not
    /// read yet is read now, so a reader stopped early still gives the file's checksum).
    func digest() throws -> (hex: String, lineBreaks: Int) {
        while try refill() { position = chunk.count }
        return (hasher.finalize(), lineBreaks)
    }

    /// Goes on reading at `offset`, the start of a record on `line` (an `ExtractIndex` block's).
    /// The checksum taken while reading no longer covers the file: take it with `SHA256.digest`.
    /// With `length`, the reader ends there (reads no further than the block).
    func seek(to offset: Int, line: Int, length: Int? = nil) throws {
        do {
            try handle.seek(toOffset: UInt64(offset))
        } catch {
            throw InputError(file: path, line: line, message: "cannot read the file: \(error.localizedDescription)")
        }
        chunk = []
        chunkStart = offset
        stop = length.map { offset + $0 }
        position = 0
        atEnd = false
        first = false
        self.line = line
    }

    /// Reads the next record into `record`; false at the end of the file. Blank lines are skipped.
    func next(into record: inout CSVRecord) throws -> Bool {
        record.bytes.removeAll(keepingCapacity: true)
        record.bounds.removeAll(keepingCapacity: true)
        record.raw.removeAll(keepingCapacity: true)
        record.quoted = false
        record.plain = false
        record.framingProblem = nil
        while true {
            guard let byte = try peekByte() else { return false }
            if byte == 0x0A {
                position += 1
                line += 1
            } else if byte == 0x0D {
                position += 1
            } else {
                break
            }
        }
        record.line = line
        record.offset = chunkStart + position
        if nextUnquotedLine(into: &record) { return true }
        record.quoted = true
        var fieldStart = 0
        var inQuotes = false
        var quoteOpenedAt = line
        while let byte = try nextByte() {
            if inQuotes {
                if byte == 0x22 {
                    if try peekByte() == 0x22 {
                        position += 1
                        record.raw.append(0x22)
                        record.raw.append(0x22)
                        record.bytes.append(0x22)
                        continue
                    }
                    inQuotes = false
                    record.raw.append(byte)
                    continue
                }
                if byte == 0x0A { line += 1 }
                record.raw.append(byte)
                record.bytes.append(byte)
                if line - record.line >= Self.maxRecordLines || record.raw.count > Self.maxRecordBytes {
                    giveUp(&record, reason: """
                        a quoted field opened on line \(quoteOpenedAt) runs past \(Self.maxRecordLines) lines or \
                        \(Self.maxRecordBytes) bytes: a stray quote? (the record is rejected; reading goes on at the next line)
                        """)
                    return true
                }
                continue
            }
            switch byte {
            case 0x22:
                inQuotes = true
                quoteOpenedAt = line
                record.raw.append(byte)
            case 0x2C:
                record.bounds.append(fieldStart..<record.bytes.count)
                fieldStart = record.bytes.count
                record.raw.append(byte)
            case 0x0A:
                line += 1
                record.bounds.append(fieldStart..<record.bytes.count)
                return true
            case 0x0D:
                if try peekByte() == 0x0A { continue }
                record.bounds.append(fieldStart..<record.bytes.count)
                return true
            default:
                record.raw.append(byte)
                record.bytes.append(byte)
            }
            if record.raw.count > Self.maxRecordBytes {
                let spansLines = record.raw.contains(0x0A)
                giveUp(&record, reason: "the record is longer than \(Self.maxRecordBytes) bytes")
                if !spansLines {
                    // The rest of this one line is the same record: passed over, not read as more.
                    while let byte = try nextByte(), byte != 0x0A {}
                    line += 1
                }
                return true
            }
        }
        if inQuotes {
            giveUp(&record, reason: """
                a quoted field opened on line \(quoteOpenedAt) is never closed (the record is rejected; reading goes on at \
                the next line)
                """)
            return true
        }
        record.bounds.append(fieldStart..<record.bytes.count)
        return true
    }

    /// Marks the record unframed, keeps its first line as its raw text, and puts everything after
    /// that line back to be read again.
    private func giveUp(_ record: inout CSVRecord, reason: String) {
        record.framingProblem = reason
        let firstBreak = record.raw.firstIndex(of: 0x0A)
        if let firstBreak {
            let rest = record.raw[(firstBreak + 1)...]
            chunk = Array(rest) + chunk[min(position, chunk.count)...]
            position = 0
            record.raw.removeSubrange(firstBreak...)
            line = record.line + 1
        }
        if record.raw.last == 0x0D { record.raw.removeLast() }
        if record.raw.count > 4096 { record.raw.removeSubrange(4096...) }
        record.bytes = record.raw
        record.bounds = [0..<record.bytes.count]
    }
}

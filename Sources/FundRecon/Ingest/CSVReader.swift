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
final class CSVReader {
    private let handle: FileHandle
    private var chunk: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private var line = 1
    private var first = true
    let path: String

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: path, message: "cannot open the file")
        }
        self.handle = handle
        self.path = path
    }

    deinit {
        try? handle.close()
    }

    private func refill() -> Bool {
        guard !atEnd else { return false }
        let data = handle.readData(ofLength: 1 << 18)
        if data.isEmpty {
            atEnd = true
            return false
        }
        chunk = [UInt8](data)
        position = 0
        if first {
            first = false
            if chunk.count >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { position = 3 }
        }
        return true
    }

    @inline(__always) private func nextByte() -> UInt8? {
        if position >= chunk.count { guard refill() else { return nil } }
        let byte = chunk[position]
        position += 1
        return byte
    }

    @inline(__always) private func peekByte() -> UInt8? {
        if position >= chunk.count { guard refill() else { return nil } }
        return chunk[position]
    }

    /// The fast path: a whole line inside the current chunk, without quotes, is copied once and cut
    /// at its commas. Anything else (quotes, a line across the chunk's end) returns false untouched.
    private func nextUnquotedLine(into record: inout CSVRecord) -> Bool {
        guard let end = chunk[position...].firstIndex(of: 0x0A) else { return false }
        var stop = end
        if stop > position, chunk[stop - 1] == 0x0D { stop -= 1 }
        let text = chunk[position..<stop]
        if text.contains(0x22) { return false }
        record.bytes.append(contentsOf: text)
        var fieldStart = 0
        record.bytes.withUnsafeBufferPointer { bytes in
            for index in 0..<bytes.count where bytes[index] == 0x2C {
                record.bounds.append(fieldStart..<index)
                fieldStart = index + 1
            }
        }
        record.bounds.append(fieldStart..<record.bytes.count)
        position = end + 1
        line += 1
        return true
    }

    /// Reads the next record into `record`; false at the end of the file. Blank lines are skipped.
    func next(into record: inout CSVRecord) -> Bool {
        record.bytes.removeAll(keepingCapacity: true)
        record.bounds.removeAll(keepingCapacity: true)
        record.raw.removeAll(keepingCapacity: true)
        record.quoted = false
        while true {
            guard let byte = peekByte() else { return false }
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
        if nextUnquotedLine(into: &record) { return true }
        record.quoted = true
        var fieldStart = 0
        var inQuotes = false
        while let byte = nextByte() {
            if inQuotes {
                if byte == 0x22 {
                    if peekByte() == 0x22 {
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
                continue
            }
            switch byte {
            case 0x22:
                inQuotes = true
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
                if peekByte() == 0x0A { continue }
                record.bounds.append(fieldStart..<record.bytes.count)
                return true
            default:
                record.raw.append(byte)
                record.bytes.append(byte)
            }
        }
        record.bounds.append(fieldStart..<record.bytes.count)
        return true
    }
}

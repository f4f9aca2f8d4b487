import CLibPQ

extension Connection {
    /// Runs `COPY ... FROM STDIN` and streams what `feed` writes; returns the rows copied.
    ///
    /// When `feed` throws, the COPY is aborted (nothing it wrote is kept) and the error rethrown.
    @discardableResult
    public func copyIn(_ sql: SQL, _ feed: (CopyInWriter) throws -> Void) throws -> Int {
        statementObserver?(sql.text)
        let started = withCStrings(sql.parameters) { values in
            PQexecParams(rawHandle, sql.text, Int32(values.count), nil, values, nil, nil, 0)
        }
        guard let started else { throw protocolError(statement: sql.text) }
        guard PQresultStatus(started) == PGRES_COPY_IN else {
            _ = try QueryResult(checking: started, connection: rawHandle, statement: sql.text)
            throw PostgresError(kind: .copy, message: "statement is not COPY FROM STDIN", statement: sql.text)
        }
        PQclear(started)
        let writer = CopyInWriter(connection: self, statement: sql.text)
        do {
            try feed(writer)
            try writer.flush()
        } catch {
            PQputCopyEnd(rawHandle, "aborted by recon: \(error)".prefix(200).description)
            drainResults()
            throw error
        }
        guard PQputCopyEnd(rawHandle, nil) == 1 else { throw protocolError(statement: sql.text) }
        var rows = 0
        var failure: Error?
        while let result = PQgetResult(rawHandle) {
            do {
                rows += try QueryResult(checking: result, connection: rawHandle, statement: sql.text).affectedRows
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return rows
    }

    /// Runs `COPY ... TO STDOUT` and hands each chunk (a row, in text or CSV format) to `body`;
    /// returns the rows copied.
    @discardableResult
    public func copyOut(_ sql: SQL, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        statementObserver?(sql.text)
        let started = withCStrings(sql.parameters) { values in
            PQexecParams(rawHandle, sql.text, Int32(values.count), nil, values, nil, nil, 0)
        }
        guard let started else { throw protocolError(statement: sql.text) }
        guard PQresultStatus(started) == PGRES_COPY_OUT else {
            _ = try QueryResult(checking: started, connection: rawHandle, statement: sql.text)
            throw PostgresError(kind: .copy, message: "statement is not COPY TO STDOUT", statement: sql.text)
        }
        PQclear(started)
        var failure: Error?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(rawHandle, &buffer, 0)
            if length > 0, let buffer {
                if failure == nil {
                    do {
                        try body(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                    } catch {
                        failure = error
                        makeCancelToken().cancel()
                    }
                }
                PQfreemem(buffer)
            } else if length == -1 {
                break
            } else {
                throw protocolError(statement: sql.text)
            }
        }
        var rows = 0
        while let result = PQgetResult(rawHandle) {
            do {
                rows += try QueryResult(checking: result, connection: rawHandle, statement: sql.text).affectedRows
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return rows
    }
}

/// Feeds a running `COPY FROM STDIN`: raw bytes, or rows encoded in COPY's text format.
public final class CopyInWriter {
    private unowned let connection: Connection
    private let statement: String
    private var buffer: [UInt8] = []
    /// Rows are sent in pieces this large. The writer's next piece is encoded while the server
    /// parses the last one, and a Unix socket wakes a blocked sender only once it has drained to a
    /// quarter of its buffer (about 53 KB of 208 KB): a piece larger than that left the server
    /// idle while the client encoded (256 KB pieces: client and server took turns, an OLTP load of
    /// 1,000,000 orders 7.4 s; 32 KB: 4.5 s, `docs/performance.md`).
    private let capacity = 1 << 15

    init(connection: Connection, statement: String) {
        self.connection = connection
        self.statement = statement
        buffer.reserveCapacity(capacity)
    }

    /// Appends raw bytes in whatever format the COPY statement declared.
    public func write(_ bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    /// Appends one row in COPY text format (tab-separated, `\N` for NULL, escapes applied).
    public func writeRow(_ fields: [String?]) throws {
        for (position, field) in fields.enumerated() {
            if let field {
                writeField(Array(field.utf8)[...], first: position == 0)
            } else {
                writeNull(first: position == 0)
            }
        }
        try endRow()
    }

    /// Appends one field of the current row (escaped for COPY text format); `first` omits the tab.
    public func writeField(_ bytes: ArraySlice<UInt8>, first: Bool) {
        if !first { buffer.append(0x09) }
        bytes.withUnsafeBufferPointer { field in
            // Most fields need no escaping: copy them whole.
            var plain = true
            for byte in field where byte == 0x5C || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                plain = false
                break
            }
            if plain {
                buffer.append(contentsOf: field)
                return
            }
            for byte in field {
                switch byte {
                case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
                case 0x09: buffer.append(contentsOf: [0x5C, 0x74])
                case 0x0A: buffer.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: buffer.append(contentsOf: [0x5C, 0x72])
                default: buffer.append(byte)
                }
            }
        }
    }

    /// Appends one field the caller knows holds no byte COPY's text format escapes (backslash,
    /// tab, line feed, carriage return).
    public func writePlainField(_ bytes: ArraySlice<UInt8>, first: Bool) {
        if !first { buffer.append(0x09) }
        buffer.append(contentsOf: bytes)
    }

    /// Appends one field given as a whole array.
    public func writeField(_ bytes: [UInt8], first: Bool) {
        writeField(bytes[...], first: first)
    }

    /// Appends a non-negative integer field without making a String of it.
    public func writeField(integer: Int, first: Bool) {
        if !first { buffer.append(0x09) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var value = integer.magnitude
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(48 + value % 10)
                value /= 10
                count += 1
            } while value > 0
            if integer < 0 { buffer.append(UInt8(ascii: "-")) }
            for position in stride(from: count - 1, through: 0, by: -1) { buffer.append(raw[position]) }
        }
    }

    /// Appends a NULL field to the current row.
    public func writeNull(first: Bool) {
        if !first { buffer.append(0x09) }
        buffer.append(contentsOf: [0x5C, 0x4E])
    }

    /// Ends the current row.
    public func endRow() throws {
        buffer.append(0x0A)
        if buffer.count >= capacity { try flush() }
    }

    /// Forgets a row begun but not ended (the caller found it bad half-way).
    public func discardRow(from mark: Int) {
        buffer.removeSubrange(mark...)
    }

    /// Where the next row begins, for `discardRow(from:)`.
    public var rowMark: Int { buffer.count }

    /// Sends what is buffered.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        let sent = buffer.withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) { chars in
                PQputCopyData(connection.rawHandle, chars.baseAddress, Int32(chars.count))
            }
        }
        guard sent == 1 else { throw connection.protocolError(statement: statement) }
        buffer.removeAll(keepingCapacity: true)
    }
}

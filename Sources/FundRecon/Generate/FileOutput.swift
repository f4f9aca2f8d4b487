import Foundation

/// A buffered writer of one output file, with RFC 4180 CSV rows. Memory stays at one buffer.
final class FileOutput {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    let path: String
    private(set) var lines = 0

    init(path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path)
        else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        self.handle = handle
        self.path = path
        buffer.reserveCapacity(1 << 16)
    }

    /// Writes one CSV row; fields with a comma, quote or line break are quoted.
    func row(_ fields: [String]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            if field.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
                buffer.append(0x22)
                for byte in field.utf8 {
                    if byte == 0x22 { buffer.append(0x22) }
                    buffer.append(byte)
                }
                buffer.append(0x22)
            } else {
                buffer.append(contentsOf: field.utf8)
            }
        }
        buffer.append(0x0A)
        lines += 1
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Writes text as it is (for XML).
    func text(_ value: String) {
        buffer.append(contentsOf: value.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    private func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        flush()
        try handle.close()
    }
}

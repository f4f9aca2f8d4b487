import Crypto
import Foundation

/// SHA-256 of files and texts (file checksums that recognise a file loaded twice, pipeline and
/// input fingerprints), streaming, on swift-crypto: BoringSSL's assembly, with the CPU's SHA
/// extensions where it has them.
struct SHA256 {
    private var hasher = Crypto.SHA256()

    mutating func update(_ bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        array.withUnsafeBufferPointer { update($0) }
    }

    mutating func update(_ buffer: UnsafeBufferPointer<UInt8>) {
        hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer))
    }

    /// The digest in lower-case hex.
    mutating func finalize() -> String {
        let digest = hasher.finalize()
        var hex = ""
        hex.reserveCapacity(64)
        for byte in digest {
            hex.append(Self.hexDigits[Int(byte >> 4)])
            hex.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        return hex
    }

    private static let hexDigits = Array("0123456789abcdef")

    /// The hex digest of a whole file, read in chunks, and its number of line breaks.
    static func digest(ofFile path: String) throws -> (hex: String, lineBreaks: Int) {
        guard let stream = InputStreamReader(path: path) else {
            throw InputError(file: path, message: "cannot open the file")
        }
        var hasher = SHA256()
        var lineBreaks = 0
        while let chunk = try stream.read() {
            chunk.withUnsafeBufferPointer { buffer in
                hasher.update(buffer)
                lineBreaks += countLineBreaks(buffer)
            }
        }
        return (hasher.finalize(), lineBreaks)
    }

    /// The line feeds in `buffer` (memchr: many bytes per step).
    static func countLineBreaks(_ buffer: UnsafeBufferPointer<UInt8>) -> Int {
        guard var cursor = buffer.baseAddress.map(UnsafeRawPointer.init) else { return 0 }
        let end = cursor + buffer.count
        var count = 0
        while cursor < end, let found = memchr(cursor, 0x0A, end - cursor) {
            count += 1
            cursor = UnsafeRawPointer(found) + 1
        }
        return count
    }
}

/// Reads a file in 1 MiB chunks.
final class InputStreamReader {
    private let descriptor: Int32
    private let path: String

    init?(path: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    /// The next bytes, nil at the end; a directory or a read error is an `InputError`.
    func read() throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            let reason = errno == EISDIR ? "is a directory, not a file" : "cannot read the file: \(String(cString: strerror(errno)))"
            throw InputError(file: path, message: reason)
        }
        guard count > 0 else { return nil }
        buffer.removeLast(buffer.count - count)
        return buffer
    }
}

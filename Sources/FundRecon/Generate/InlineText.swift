/// A short ASCII text (a gateway reference, at most 31 bytes) held in the value itself. Settlement
/// lines wait days in memory before their file is written (refunds up to three weeks): a reference
/// kept as a `String` of more than 15 bytes is an allocation of its own, which at 10,000,000 orders
/// a month was most of the generator's peak.
struct InlineText: Sendable {
    static let capacity = 31
    /// The bytes, then the length in the last one.
    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ text: String) {
        let bytes = Array(text.utf8)
        precondition(bytes.count <= InlineText.capacity, "'\(text)' is longer than \(InlineText.capacity) bytes")
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyBytes(from: bytes)
            raw[InlineText.capacity] = UInt8(bytes.count)
        }
    }

    /// The text.
    var string: String {
        withUnsafeBytes(of: storage) { raw in
            String(decoding: raw.prefix(Int(raw[InlineText.capacity])), as: UTF8.self)
        }
    }
}

/// A deterministic pseudo-random source (SplitMix64): the same seed gives the same numbers on any
/// machine. Integer-only on purpose: floating-point library functions may differ between systems.
struct SeededRandom {
    private var state: UInt64

    /// A source for `seed`; `stream` separates independent sequences drawn from one seed.
    init(seed: UInt64, stream: UInt64 = 0) {
        state = seed &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1)
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (bound > 0), without modulo bias worth caring about at 64 bits.
    mutating func below(_ bound: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A number in the closed range.
    mutating func within(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `perMille` / 1000.
    mutating func chance(perMille: Int) -> Bool { below(1000) < perMille }

    /// An index drawn with the given integer weights.
    mutating func weighted(_ cumulative: [Int]) -> Int {
        let target = below(cumulative[cumulative.count - 1])
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// `count` lower-case hex characters.
    mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var bits = next()
        for index in 0..<count {
            if index > 0 && index % 16 == 0 { bits = next() }
            bytes.append(digits[Int(bits & 15)])
            bits >>= 4
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Running sums of weights, for `SeededRandom.weighted`.
func cumulativeWeights(_ weights: [Int]) -> [Int] {
    var total = 0
    return weights.map { total += $0; return total }
}

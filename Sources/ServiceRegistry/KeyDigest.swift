/// An object's key reduced to 128 bits, for an index that must hold every key of a registry but
/// not the keys themselves: which file defines which key (`ManifestSource`'s `Holders`). The full
/// key is three strings (48 bytes); a digest and a file number make a hash table's bucket 20 bytes.
/// Two SipHash-1-3 values under the process's random seed, of the key with two different
/// prefixes: that two keys of a registry of n share a digest has a chance of about n² / 2¹²⁹
/// (10⁻²⁶ for 2 million keys), and no one outside the process can aim for one.
struct KeyDigest: Hashable, Comparable, Sendable {
    private let high: UInt64
    private let low: UInt64

    init(_ key: RegistryObjectKey) {
        var first = Hasher()
        first.combine(UInt8(1))
        first.combine(key)
        var second = Hasher()
        second.combine(UInt8(2))
        second.combine(key)
        high = UInt64(bitPattern: Int64(first.finalize()))
        low = UInt64(bitPattern: Int64(second.finalize()))
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(low)
    }

    static func < (lhs: KeyDigest, rhs: KeyDigest) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

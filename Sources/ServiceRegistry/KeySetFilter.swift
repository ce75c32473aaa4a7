/// A few keys, looked for among the thousands a file's documents define: each key is first
/// checked against a bitmap of a byte of its name's hash (`bit(of:)`, which a document's record
/// keeps with each object, so the check reads no string), and hashed whole only when that matches.
/// An endpoint edit of a 730 KiB namespace file compared its 1,500 documents' keys with a handful
/// of changed ones twice per read: SipHash on all three strings of each key was about a twentieth
/// of the read; the keys made and their strings read to find the bit, another twentieth.
struct KeySetFilter {
    private let keys: Set<RegistryObjectKey>
    private var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ keys: Set<RegistryObjectKey>) {
        self.keys = keys
        for key in keys { set(Int(Self.bit(of: key))) }
    }

    func contains(_ key: RegistryObjectKey) -> Bool {
        mayContain(bit: Self.bit(of: key)) && keys.contains(key)
    }

    /// False when no key of the set has this `bit(of:)`.
    func mayContain(bit: UInt8) -> Bool { isSet(Int(bit)) }

    /// A byte of FNV-1a over the key's name: names of one namespace differ mostly in a few bytes
    /// anywhere in them.
    static func bit(of key: RegistryObjectKey) -> UInt8 {
        var hash: UInt32 = 2_166_136_261
        for byte in key.key.name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return UInt8(truncatingIfNeeded: hash ^ hash >> 8 ^ hash >> 16 ^ hash >> 24)
    }

    private mutating func set(_ bit: Int) {
        let mask = UInt64(1) << UInt64(bit & 63)
        switch bit >> 6 {
        case 0: bits.0 |= mask
        case 1: bits.1 |= mask
        case 2: bits.2 |= mask
        default: bits.3 |= mask
        }
    }

    private func isSet(_ bit: Int) -> Bool {
        let mask = UInt64(1) << UInt64(bit & 63)
        switch bit >> 6 {
        case 0: return bits.0 & mask != 0
        case 1: return bits.1 & mask != 0
        case 2: return bits.2 & mask != 0
        default: return bits.3 & mask != 0
        }
    }
}

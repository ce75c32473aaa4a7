/// A few keys, looked for among the thousands a file's documents define: each key is first
/// checked against a bitmap of its name's length and last byte, and hashed whole only when that
/// matches. An endpoint edit of a 730 KiB namespace file compared its 1,500 documents' keys with
/// a handful of changed ones twice per read, SipHash on all three strings of each key, about a
/// twentieth of the read.
struct KeySetFilter {
    private let keys: Set<RegistryObjectKey>
    private var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ keys: Set<RegistryObjectKey>) {
        self.keys = keys
        for key in keys { set(Self.bit(of: key)) }
    }

    func contains(_ key: RegistryObjectKey) -> Bool {
        isSet(Self.bit(of: key)) && keys.contains(key)
    }

    private static func bit(of key: RegistryObjectKey) -> Int {
        let name = key.key.name.utf8
        return (name.count &* 31 &+ Int(name.last ?? 0)) & 255
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

import HashTreeCollections

/// A persistent table keyed by address, IPv4 addresses by their 32 bits: an `IPAddress` key takes
/// 24 bytes of every entry, and most addresses are IPv4. (The reverse index 16 → 7.2 MB at 50k
/// Services; the Pods by address and the Services by ClusterIP use it too.) The IPv4 half is sorted
/// runs, not a hash trie: a million endpoint addresses' reverse index and Pods by address took
/// 1.6 times their entries' size in a trie. Public and `@inlinable` for the reason `SortedRuns` is.
public struct AddressTable<Value: Sendable>: Sendable {
    @usableFromInline var v4 = SortedRuns<UInt32, Value>()
    @usableFromInline var v6: TreeDictionary<IPAddress, Value> = [:]

    @inlinable public init() {}

    /// Takes `table` (laid out by `SortedRuns.Builder`) as the IPv4 addresses, by their 32 bits,
    /// of a table that holds none yet.
    @inlinable public mutating func fillIPv4(_ table: SortedRuns<UInt32, Value>) {
        precondition(v4.isEmpty, "an address table's IPv4 half is filled once, while empty")
        v4 = table
    }

    @inlinable public var count: Int { v4.count + v6.count }

    @inlinable public subscript(address: IPAddress) -> Value? {
        get {
            if case .v4(let bits) = address { return v4[bits] }
            return v6[address]
        }
        set {
            if case .v4(let bits) = address { v4[bits] = newValue } else { v6[address] = newValue }
        }
    }

    @inlinable public mutating func updateValue<R>(forKey address: IPAddress, with body: (inout Value?) -> R) -> R {
        if case .v4(let bits) = address { return v4.updateValue(forKey: bits, with: body) }
        return v6.updateValue(forKey: address, with: body)
    }

    /// The addresses of one family, in no particular order.
    @inlinable public func addresses(ipv4: Bool) -> [IPAddress] {
        ipv4 ? v4.keys.map { .v4($0) } : Array(v6.keys)
    }
}

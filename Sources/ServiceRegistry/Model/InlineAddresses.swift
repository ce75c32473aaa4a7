/// A list of addresses that nearly always holds one, kept inline: an array of one address is an
/// allocation of 64 bytes, made for each of a million endpoints or Pods. Iterating it makes no array.
public struct InlineAddresses: Hashable, Sendable, Sequence {
    private var others: [IPAddress]
    private var first: IPAddress?

    public init(_ addresses: [IPAddress]) {
        first = addresses.first
        others = addresses.count > 1 ? Array(addresses.dropFirst()) : []
    }

    public var isEmpty: Bool { first == nil }

    /// In order, as an array (made on each call).
    public var array: [IPAddress] { Array(self) }

    public func makeIterator() -> Iterator { Iterator(first: first, others: others.makeIterator()) }

    public struct Iterator: IteratorProtocol {
        var first: IPAddress?
        var others: IndexingIterator<[IPAddress]>

        public mutating func next() -> IPAddress? {
            if let address = first {
                first = nil
                return address
            }
            return others.next()
        }
    }
}

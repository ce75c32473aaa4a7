import DNSWire

/// The ends of names that the answer table's entries leave out, each said by one byte of the
/// entry: nearly every name the table holds ends in `svc.<domain>`, `<domain>` or a reverse zone's
/// apex, 10 to 19 of its bytes (2.5 MB of the 50k-Service table).
///
/// Unchecked Sendable: immutable after init; `view` points into memory this object owns.
final class NameSuffixes: @unchecked Sendable {
    /// Marks an entry a patch replaced: its length is more than any name's, so it never matches.
    static let dead: UInt8 = 0xff

    /// What a query reads, without reference counting: each suffix's length (one no name has for
    /// a byte that is no suffix's) and where its bytes lie.
    struct View {
        let lengths: UnsafePointer<Int>
        let starts: UnsafePointer<Int>
        let bytes: UnsafeRawPointer
    }

    /// Suffix 0 is the empty one; the others lower-case wire names, longest first.
    private let wires: [[UInt8]]
    private let lengths: UnsafeMutablePointer<Int>
    private let starts: UnsafeMutablePointer<Int>
    private let bytes: UnsafeMutableRawPointer
    let view: View

    /// The suffixes of the cluster zone under `domain` and of the reverse zones.
    convenience init(domain: DNSName) {
        let lowercased = domain.inLowerCase
        var suffixes = [lowercased] + ReverseZone.origins
        if let services = try? lowercased.prepending(labels: ["svc"]) { suffixes.append(services) }
        self.init(wires: suffixes.map(\.wire))
    }

    init(wires: [[UInt8]]) {
        let all = [[]] + wires.sorted { $0.count > $1.count }
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        lengths.initialize(repeating: 1 << 16, count: 256)
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        starts.initialize(repeating: 0, count: 256)
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(1, all.reduce(0) { $0 + $1.count }), alignment: 8)
        var offset = 0
        for (index, wire) in all.enumerated() {
            lengths[index] = wire.count
            starts[index] = offset
            if !wire.isEmpty { wire.withUnsafeBytes { (bytes + offset).copyMemory(from: $0.baseAddress!, byteCount: wire.count) } }
            offset += wire.count
        }
        (self.wires, self.lengths, self.starts, self.bytes) = (all, lengths, starts, bytes)
        view = View(lengths: lengths, starts: starts, bytes: bytes)
    }

    deinit {
        lengths.deallocate()
        starts.deallocate()
        bytes.deallocate()
    }

    /// The longest suffix `wire` (lower case) ends with; 0 when none.
    func longest(endingOf wire: [UInt8]) -> UInt8 {
        for index in 1..<wires.count where wires[index].count <= wire.count && wire.suffix(wires[index].count).elementsEqual(wires[index]) {
            return UInt8(index)
        }
        return 0
    }

    func length(of suffix: UInt8) -> Int { lengths[Int(suffix)] }

    func wire(of suffix: UInt8) -> [UInt8] { Int(suffix) < wires.count ? wires[Int(suffix)] : [] }

    /// Whether `wire` ends with the suffix.
    func ends(_ wire: UnsafeRawBufferPointer, with suffix: UInt8) -> Bool {
        let end = self.wire(of: suffix)
        return end.count <= wire.count && wire[(wire.count - end.count)...].elementsEqual(end)
    }
}

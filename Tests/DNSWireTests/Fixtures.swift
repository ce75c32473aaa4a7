import DNSWire

/// A name from a literal known to be valid; a typo here is a bug in the test, so it traps.
func name(_ text: String) -> DNSName {
    do {
        return try DNSName(text)
    } catch {
        fatalError("bad name literal \(text): \(error)")
    }
}

/// A name of `count` bytes of `byte` repeated, as one label.
func label(_ count: Int, _ byte: UInt8 = UInt8(ascii: "a")) -> [UInt8] {
    [UInt8](repeating: byte, count: count)
}

/// IPv4 address literal as the host-order integer `RecordData.a` holds.
func ipv4(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 {
    a << 24 | b << 16 | c << 8 | d
}

/// One record of every data kind the encoder knows, plus an unknown type, all in the cluster zone.
/// Names share suffixes so compression has work to do.
let everyRecordKind: [ResourceRecord] = [
    ResourceRecord(name: name("web.shop.svc.cluster.local"), ttl: 30, data: .a(ipv4(10, 96, 0, 10))),
    ResourceRecord(name: name("web.shop.svc.cluster.local"), ttl: 30, data: .aaaa(high: 0xfd00_0000_0000_0000, low: 0x0000_0000_0000_000a)),
    ResourceRecord(name: name("cluster.local"), ttl: 30, data: .ns(name("ns.dns.cluster.local"))),
    ResourceRecord(name: name("alias.shop.svc.cluster.local"), ttl: 5, data: .cname(name("web.shop.svc.cluster.local"))),
    ResourceRecord(name: name("10.0.96.10.in-addr.arpa"), ttl: 30, data: .ptr(name("web.shop.svc.cluster.local"))),
    ResourceRecord(
        name: name("cluster.local"), ttl: 5,
        data: .soa(
            StartOfAuthority(
                primaryNameServer: name("ns.dns.cluster.local"), responsibleMailbox: name("hostmaster.cluster.local"),
                serial: 1_700_000_000, refresh: 7200, retry: 1800, expire: 86400, minimum: 5))),
    ResourceRecord(
        name: name("_http._tcp.web.shop.svc.cluster.local"), ttl: 30,
        data: .srv(priority: 0, weight: 100, port: 8080, target: name("web.shop.svc.cluster.local"))),
    ResourceRecord(
        name: name("web.shop.svc.cluster.local"), ttl: 30,
        data: .txt([Array("v=1".utf8), Array("with space and \"quotes\"".utf8), [], label(255, UInt8(ascii: "x"))])),
    ResourceRecord(name: name("host.cluster.local"), ttl: 30, data: .hinfo(cpu: Array("x86_64".utf8), os: Array("Linux".utf8))),
    ResourceRecord(name: name("odd.cluster.local"), ttl: 30, data: .unknown(type: RecordType(65280), data: [0x01, 0x02, 0x03])),
    ResourceRecord(name: name("empty.cluster.local"), ttl: 30, data: .unknown(type: RecordType(65281), data: [])),
]

/// A response header: QR, AA, RD, RA set, NOERROR.
func responseHeader(id: UInt16 = 0xbeef) -> DNSHeader {
    var header = DNSHeader(id: id)
    header.isResponse = true
    header.isAuthoritative = true
    header.recursionDesired = true
    header.recursionAvailable = true
    return header
}

/// The size the message would take with no name compression at all.
func uncompressedSize(_ message: DNSMessage) -> Int {
    var size = 12
    for question in message.questions { size += question.name.wire.count + 4 }
    for record in message.answers + message.authority + message.additional {
        size += record.name.wire.count + 10
        switch record.data {
        case .a: size += 4
        case .aaaa: size += 16
        case .ns(let target), .cname(let target), .ptr(let target): size += target.wire.count
        case .soa(let soa): size += soa.primaryNameServer.wire.count + soa.responsibleMailbox.wire.count + 20
        case .srv(_, _, _, let target): size += 6 + target.wire.count
        case .mx(_, let exchange): size += 2 + exchange.wire.count
        case .txt(let strings): size += strings.reduce(0) { $0 + 1 + $1.count }
        case .hinfo(let cpu, let os): size += 2 + cpu.count + os.count
        case .unknown(_, let data): size += data.count
        }
    }
    if let edns = message.edns { size += edns.encodedSize }
    return size
}

/// Hand-built wire messages for the malformed-input tests.
enum Wire {
    /// A 12-byte header with the given id, flags and section counts.
    static func header(id: UInt16 = 0x1234, flags: UInt16 = 0, qd: UInt16 = 0, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
        [id, flags, qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
    static func u32(_ value: UInt32) -> [UInt8] { u16(UInt16(value >> 16)) + u16(UInt16(value & 0xffff)) }

    /// Type and class IN, after a question name.
    static func questionTail(_ type: RecordType = .a) -> [UInt8] { u16(type.rawValue) + u16(1) }

    /// Type, class IN, TTL 60 and the RDLENGTH, after a record owner name.
    static func recordTail(_ type: RecordType, rdlength: UInt16, class dnsClass: UInt16 = 1) -> [UInt8] {
        u16(type.rawValue) + u16(dnsClass) + u32(60) + u16(rdlength)
    }

    /// An OPT record (owner root) with empty data.
    static let opt: [UInt8] = [0] + u16(RecordType.opt.rawValue) + u16(1232) + [0, 0] + u16(0) + u16(0)

    /// `example.` in wire form.
    static let example: [UInt8] = [7] + Array("example".utf8) + [0]
}

/// SplitMix64: a tiny seeded generator so the fuzz test is the same on every run and machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// The SOA fields (RFC 1035 §3.3.13).
public struct StartOfAuthority: Hashable, Sendable {
    public var primaryNameServer: DNSName
    public var responsibleMailbox: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    /// Also the TTL of negative answers (RFC 2308).
    public var minimum: UInt32

    public init(primaryNameServer: DNSName, responsibleMailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32) {
        self.primaryNameServer = primaryNameServer
        self.responsibleMailbox = responsibleMailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// The typed data of a record. Types this server never writes are kept as raw bytes.
public enum RecordData: Hashable, Sendable {
    /// IPv4 address as a host-order integer (`10.0.0.1` is `0x0a000001`).
    case a(UInt32)
    /// IPv6 address as two host-order halves; `high` holds the first 8 bytes.
    case aaaa(high: UInt64, low: UInt64)
    case ns(DNSName)
    case cname(DNSName)
    case ptr(DNSName)
    case soa(StartOfAuthority)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    /// Typed because its exchange name may be compressed (RFC 1035): relayed as raw bytes, a
    /// pointer would point into someone else's message.
    case mx(preference: UInt16, exchange: DNSName)
    /// Character strings, each at most 255 bytes.
    case txt([[UInt8]])
    case hinfo(cpu: [UInt8], os: [UInt8])
    case unknown(type: RecordType, data: [UInt8])

    public var type: RecordType {
        switch self {
        case .a: return .a
        case .aaaa: return .aaaa
        case .ns: return .ns
        case .cname: return .cname
        case .ptr: return .ptr
        case .soa: return .soa
        case .srv: return .srv
        case .mx: return .mx
        case .txt: return .txt
        case .hinfo: return .hinfo
        case .unknown(let type, _): return type
        }
    }
}

/// One resource record of the answer, authority or additional section.
public struct ResourceRecord: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    public var `class`: DNSClass
    public var ttl: UInt32
    public var data: RecordData

    public init(name: DNSName, class: DNSClass = .in, ttl: UInt32, data: RecordData) {
        self.name = name
        self.class = `class`
        self.ttl = ttl
        self.data = data
    }

    /// Whether the two belong to one RRset: the same owner (compared without case), type and class.
    public func isInSameRRset(as other: ResourceRecord) -> Bool {
        type == other.type && `class` == other.class && name.equalsIgnoringCase(other.name)
    }

    public var type: RecordType { data.type }

    /// One line as dig prints it: `name ttl class type rdata`.
    public var description: String {
        "\(name)\t\(ttl)\t\(`class`)\t\(type)\t\(data.presentation)"
    }
}

extension RecordData {
    /// The RDATA in presentation form, as dig and zone files write it.
    public var presentation: String {
        switch self {
        case .a(let value):
            return "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
        case .aaaa(let high, let low):
            let groups = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
            return formatIPv6(groups)
        case .ns(let name), .cname(let name), .ptr(let name):
            return name.description
        case .soa(let soa):
            return "\(soa.primaryNameServer) \(soa.responsibleMailbox) \(soa.serial) \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum)"
        case .srv(let priority, let weight, let port, let target):
            return "\(priority) \(weight) \(port) \(target)"
        case .mx(let preference, let exchange):
            return "\(preference) \(exchange)"
        case .txt(let strings):
            return strings.map(quoted).joined(separator: " ")
        case .hinfo(let cpu, let os):
            return "\(quoted(cpu)) \(quoted(os))"
        case .unknown(_, let data):
            let hex = data.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined()
            // RFC 3597 §5: empty data is `\# 0`, with no trailing space.
            return data.isEmpty ? "\\# 0" : "\\# \(data.count) \(hex)"
        }
    }
}

private func quoted(_ bytes: [UInt8]) -> String {
    var text = "\""
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            text += "\\" + String(Character(Unicode.Scalar(byte)))
        case 0x20...0x7e:
            text.append(Character(Unicode.Scalar(byte)))
        default:
            let value = String(byte)
            text += "\\" + String(repeating: "0", count: 3 - value.count) + value
        }
    }
    return text + "\""
}

/// RFC 5952: lower-case hex, leading zeros dropped, the longest run (≥2) of zero groups as `::`;
/// IPv4-mapped addresses end in dotted quad (§5), as dig prints them.
func formatIPv6(_ groups: [UInt16]) -> String {
    if groups[0..<5].allSatisfy({ $0 == 0 }), groups[5] == 0xffff {
        return "::ffff:\(groups[6] >> 8).\(groups[6] & 0xff).\(groups[7] >> 8).\(groups[7] & 0xff)"
    }
    var bestStart = -1
    var bestLength = 0
    var index = 0
    while index < 8 {
        if groups[index] == 0 {
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > bestLength && end - index >= 2 {
                bestStart = index
                bestLength = end - index
            }
            index = end
        } else {
            index += 1
        }
    }
    func hex(_ range: Range<Int>) -> String {
        groups[range].map { String($0, radix: 16) }.joined(separator: ":")
    }
    guard bestStart >= 0 else { return hex(0..<8) }
    return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
}

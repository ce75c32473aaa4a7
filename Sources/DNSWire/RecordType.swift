/// An RR TYPE (or QTYPE) code. A struct, not an enum, so unknown types survive decoding.
public struct RecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RecordType(1)
    public static let ns = RecordType(2)
    public static let cname = RecordType(5)
    public static let soa = RecordType(6)
    public static let ptr = RecordType(12)
    public static let hinfo = RecordType(13)
    public static let mx = RecordType(15)
    public static let txt = RecordType(16)
    public static let aaaa = RecordType(28)
    public static let srv = RecordType(33)
    public static let opt = RecordType(41)
    public static let ixfr = RecordType(251)
    public static let axfr = RecordType(252)
    public static let any = RecordType(255)

    private static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA",
        33: "SRV", 41: "OPT", 251: "IXFR", 252: "AXFR", 255: "ANY",
    ]

    /// A type that only a question (or a message's machinery) carries, never a zone: OPT and the
    /// meta range 128–255 (RFC 6895 §3.1: TKEY, TSIG, IXFR, AXFR, MAILB, MAILA, ANY, ...). The
    /// zones hold no records of these, so no compiled answer exists for them; `Catalog` decides
    /// what each gets.
    @inlinable
    public var isMeta: Bool { rawValue == 41 || (128...255).contains(rawValue) }

    /// Mnemonic as dig prints it, or `TYPE<n>` (RFC 3597).
    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }

    /// Parses a mnemonic (`srv`, `AAAA`) or `TYPE<n>`.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        if let match = Self.names.first(where: { $0.value == upper }) {
            self.init(match.key)
        } else if upper.hasPrefix("TYPE"), let value = UInt16(upper.dropFirst(4)) {
            self.init(value)
        } else {
            return nil
        }
    }
}

/// An RR CLASS code; the cluster zone only serves IN.
public struct DNSClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let `in` = DNSClass(rawValue: 1)
    public static let chaos = DNSClass(rawValue: 3)
    public static let none = DNSClass(rawValue: 254)
    public static let any = DNSClass(rawValue: 255)

    public var description: String {
        switch rawValue {
        case 1: return "IN"
        case 3: return "CH"
        case 254: return "NONE"
        case 255: return "ANY"
        default: return "CLASS\(rawValue)"
        }
    }
}

/// Response codes (the 4 header bits; extended codes would need EDNS, which we never send).
public struct ResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let noError = ResponseCode(rawValue: 0)
    public static let formatError = ResponseCode(rawValue: 1)
    public static let serverFailure = ResponseCode(rawValue: 2)
    public static let nameError = ResponseCode(rawValue: 3)
    public static let notImplemented = ResponseCode(rawValue: 4)
    public static let refused = ResponseCode(rawValue: 5)
    /// NOTAUTH (RFC 2845's use): a zone transfer asked of a name that is not the apex of a zone held.
    public static let notAuthoritative = ResponseCode(rawValue: 9)
    /// BADVERS (16) lives in the OPT record's extended bits: upper 8 bits 1, header bits 0.
    public static let badVersion = ResponseCode(rawValue: 16)

    public var description: String {
        switch rawValue {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        case 9: return "NOTAUTH"
        case 16: return "BADVERS"
        default: return "RCODE\(rawValue)"
        }
    }
}

/// The header OPCODE; only QUERY is served.
public struct Opcode: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0f }

    public static let query = Opcode(rawValue: 0)
    public static let status = Opcode(rawValue: 2)
    public static let notify = Opcode(rawValue: 4)
    public static let update = Opcode(rawValue: 5)
}

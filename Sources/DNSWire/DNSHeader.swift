/// The fixed 12-byte message header. Section counts are derived from the message when encoding.
public struct DNSHeader: Hashable, Sendable {
    public var id: UInt16
    /// The 16 flag bits as on the wire (QR, OPCODE, AA, TC, RD, RA, Z, AD, CD, RCODE).
    public var flags: UInt16

    public init(id: UInt16 = 0, flags: UInt16 = 0) {
        self.id = id
        self.flags = flags
    }

    public var isResponse: Bool {
        get { flags & 0x8000 != 0 }
        set { setBit(0x8000, newValue) }
    }
    public var opcode: Opcode {
        get { Opcode(rawValue: UInt8(truncatingIfNeeded: flags >> 11)) }
        set { flags = flags & ~0x7800 | UInt16(newValue.rawValue) << 11 }
    }
    public var isAuthoritative: Bool {
        get { flags & 0x0400 != 0 }
        set { setBit(0x0400, newValue) }
    }
    public var isTruncated: Bool {
        get { flags & 0x0200 != 0 }
        set { setBit(0x0200, newValue) }
    }
    public var recursionDesired: Bool {
        get { flags & 0x0100 != 0 }
        set { setBit(0x0100, newValue) }
    }
    public var recursionAvailable: Bool {
        get { flags & 0x0080 != 0 }
        set { setBit(0x0080, newValue) }
    }
    public var authenticData: Bool {
        get { flags & 0x0020 != 0 }
        set { setBit(0x0020, newValue) }
    }
    public var checkingDisabled: Bool {
        get { flags & 0x0010 != 0 }
        set { setBit(0x0010, newValue) }
    }
    /// The low 4 bits of the response code.
    public var responseCode: ResponseCode {
        get { ResponseCode(rawValue: UInt8(flags & 0x000f)) }
        set { flags = flags & ~0x000f | UInt16(newValue.rawValue & 0x0f) }
    }

    /// The flag bits a response echoes from its query: RD and CD (RFC 1035 §4.1.1, RFC 4035 §3.2.2).
    public static let echoedFlags: UInt16 = 0x0110

    /// The header of our response to a query with header `query`: its ID and opcode, QR set, RD
    /// and CD echoed, AA when we answer for the zone, RA when the answer came through recursion (a
    /// forwarded one), and the low bits of `responseCode`. The one place a response header is
    /// made; the byte-copying paths store its flags and stamp the client's ID and echoed bits over them.
    public static func response(to query: DNSHeader, responseCode: ResponseCode, authoritative: Bool, recursionAvailable: Bool = false) -> DNSHeader {
        var header = DNSHeader(id: query.id, flags: query.flags & echoedFlags)
        header.isResponse = true
        header.opcode = query.opcode
        header.isAuthoritative = authoritative
        header.recursionAvailable = recursionAvailable
        header.responseCode = responseCode
        return header
    }

    private mutating func setBit(_ bit: UInt16, _ on: Bool) {
        if on { flags |= bit } else { flags &= ~bit }
    }
}

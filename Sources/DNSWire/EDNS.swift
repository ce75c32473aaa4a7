/// The EDNS(0) pseudo-record (RFC 6891), lifted out of the additional section.
public struct EDNS: Hashable, Sendable {
    /// Requestor's (or our) UDP payload size; values below 512 are treated as 512.
    public var udpPayloadSize: UInt16
    /// Upper 8 bits of the 12-bit extended RCODE.
    public var extendedResponseCode: UInt8
    public var version: UInt8
    /// The DO bit.
    public var dnssecOK: Bool
    /// Options as (code, data) pairs, in order.
    public var options: [EDNSOption]

    public init(udpPayloadSize: UInt16 = 1232, extendedResponseCode: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false, options: [EDNSOption] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedResponseCode = extendedResponseCode
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    /// Encoded size of the OPT record: root name, fixed fields, options.
    @inlinable
    public var encodedSize: Int { OPTRecord.fixedSize + options.reduce(0) { $0 + 4 + $1.data.count } }
}

public struct EDNSOption: Hashable, Sendable {
    public var code: UInt16
    public var data: [UInt8]

    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }
}

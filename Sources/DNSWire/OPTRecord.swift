/// The OPT pseudo-record on the wire (RFC 6891 §6.1.2). One writer serves the encoder and the
/// byte-copying answer paths, so every response carries the same bytes.
public enum OPTRecord {
    /// Root owner, TYPE, CLASS (payload size), TTL (extended code, version, flags), RDLENGTH.
    public static let fixedSize = 11

    /// The OPT record of every response to an EDNS query that is not an EDNS error: our payload
    /// size, version 0, no flags, no options.
    public static let ours = EDNS(udpPayloadSize: DNSTransport.ourUDPPayloadSize)

    /// Writes `edns` at `offset` (the caller made `edns.encodedSize` bytes room).
    /// - Returns: the offset just past it.
    @inlinable
    public static func write(_ edns: EDNS, into output: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        output[offset] = 0
        output.storeBigEndian(RecordType.opt.rawValue, at: offset + 1)
        output.storeBigEndian(edns.udpPayloadSize, at: offset + 3)
        output[offset + 5] = edns.extendedResponseCode
        output[offset + 6] = edns.version
        output.storeBigEndian(edns.dnssecOK ? 0x8000 : 0, at: offset + 7)
        output.storeBigEndian(UInt16(edns.encodedSize - fixedSize), at: offset + 9)
        var cursor = offset + fixedSize
        for option in edns.options {
            output.storeBigEndian(option.code, at: cursor)
            output.storeBigEndian(UInt16(option.data.count), at: cursor + 2)
            for (index, byte) in option.data.enumerated() { output[cursor + 4 + index] = byte }
            cursor += 4 + option.data.count
        }
        return cursor
    }
}

extension UnsafeRawBufferPointer {
    @inlinable
    public func bigEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable
    public func storeBigEndian(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}

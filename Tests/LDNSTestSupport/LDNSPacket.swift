import CLDNS

#if canImport(Glibc)
import Glibc
#endif

/// A DNS message as libldns reads it: an independent decoder to check our bytes against.
public struct LDNSPacket: Sendable {
    public var id: UInt16
    public var responseCode: UInt8
    public var isResponse: Bool
    public var isAuthoritative: Bool
    public var isTruncated: Bool
    public var recursionDesired: Bool
    public var questions: [String]
    /// Records in ldns's presentation form, whitespace collapsed to single spaces.
    public var answers: [String]
    public var authority: [String]
    public var additional: [String]
    /// EDNS UDP size when an OPT record is present.
    public var ednsUDPSize: UInt16?
    /// ldns's own dig-like rendering of the whole packet.
    public var text: String

    /// Parses wire bytes with `ldns_wire2pkt`; throws the ldns error text when it refuses them.
    public init(wire: [UInt8]) throws {
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = wire.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else {
            throw LDNSError(message: String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { ldns_pkt_free(packet) }
        id = ldns_pkt_id(packet)
        responseCode = UInt8(ldns_pkt_get_rcode(packet).rawValue)
        isResponse = ldns_pkt_qr(packet)
        isAuthoritative = ldns_pkt_aa(packet)
        isTruncated = ldns_pkt_tc(packet)
        recursionDesired = ldns_pkt_rd(packet)
        questions = Self.strings(ldns_pkt_question(packet))
        answers = Self.strings(ldns_pkt_answer(packet))
        authority = Self.strings(ldns_pkt_authority(packet))
        additional = Self.strings(ldns_pkt_additional(packet))
        ednsUDPSize = ldns_pkt_edns(packet) ? ldns_pkt_edns_udp_size(packet) : nil
        text = takeString(ldns_pkt2str(packet))
    }

    private static func strings(_ list: UnsafeMutablePointer<ldns_rr_list>?) -> [String] {
        guard let list else { return [] }
        return (0..<ldns_rr_list_rr_count(list)).map { index in
            normalizeWhitespace(takeString(ldns_rr2str(ldns_rr_list_rr(list, index))))
        }
    }
}

public struct LDNSError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "ldns: \(message)" }
}

/// Collapses runs of spaces and tabs to one space and trims, so record texts compare across tools.
public func normalizeWhitespace(_ text: String) -> String {
    text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
}

private func takeString(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    defer { free(pointer) }
    return String(cString: pointer)
}

/// Builds a query with libldns (so our decoder is checked against bytes we did not write).
public func ldnsQueryWire(name: String, type: UInt16, id: UInt16 = 0x1234, recursionDesired: Bool = true) throws -> [UInt8] {
    var query: UnsafeMutablePointer<ldns_pkt>? = nil
    let status = ldns_pkt_query_new_frm_str(&query, name, ldns_rr_type(rawValue: UInt32(type)), LDNS_RR_CLASS_IN, recursionDesired ? UInt16(LDNS_RD) : 0)
    guard status == LDNS_STATUS_OK, let query else {
        throw LDNSError(message: String(cString: ldns_get_errorstr_by_id(status)))
    }
    defer { ldns_pkt_free(query) }
    ldns_pkt_set_id(query, id)
    var wire: UnsafeMutablePointer<UInt8>? = nil
    var size = 0
    guard ldns_pkt2wire(&wire, query, &size) == LDNS_STATUS_OK, let wire else {
        throw LDNSError(message: "ldns_pkt2wire failed")
    }
    defer { free(wire) }
    return Array(UnsafeBufferPointer(start: wire, count: size))
}

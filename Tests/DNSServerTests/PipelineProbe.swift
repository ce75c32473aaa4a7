import DNSServer
import DNSWire

extension DNSResponder {
    /// The response to `query` as bytes, and which path wrote it; nil when the query is dropped.
    func answer(_ query: [UInt8], over transport: DNSTransport = .udp) -> (bytes: [UInt8], path: AnswerPath)? {
        var output = [UInt8](repeating: 0, count: transport.largestResponse)
        let response = query.withUnsafeBytes { query in output.withUnsafeMutableBytes { respond(to: query, over: transport, into: $0) } }
        return response.map { (Array(output[0..<$0.length]), $0.path) }
    }

    /// The decoded response to `query`; nil when it is dropped.
    func decodedAnswer(_ query: [UInt8], over transport: DNSTransport = .udp) throws -> DNSMessage? {
        guard let (bytes, _) = answer(query, over: transport) else { return nil }
        return try DNSMessageDecoder.decode(bytes: bytes)
    }
}

/// A query as a stub resolver sends it.
func queryBytes(_ name: String, _ type: RecordType, id: UInt16 = 0x4242, edns: EDNS? = nil, recursionDesired: Bool = true) throws -> [UInt8] {
    DNSMessageEncoder.encode(DNSMessage.query(id: id, name: try DNSName(name), type: type, recursionDesired: recursionDesired, edns: edns))
}

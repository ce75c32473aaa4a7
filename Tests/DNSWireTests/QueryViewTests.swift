import DNSWire
import Testing

/// The in-place query view and the strict decoder are one definition of a valid query: whatever
/// the view reads, the decoder reads the same way, so no answer path can take a query that another
/// would reject.
@Suite("Query view")
struct QueryViewTests {
    static func view(_ bytes: [UInt8], over transport: DNSTransport = .udp) -> DNSQueryView? {
        bytes.withUnsafeBytes { DNSQueryView($0, transport: transport) }
    }

    static let seeds: [[UInt8]] = [
        DNSMessageEncoder.encode(.query(id: 1, name: name("web.shop.svc.cluster.local"), type: .a)),
        DNSMessageEncoder.encode(.query(id: 2, name: name("_http._tcp.api.shop.svc.cluster.local"), type: .srv, edns: EDNS(udpPayloadSize: 4096))),
        DNSMessageEncoder.encode(.query(
            id: 3, name: name("Kubernetes.Default.svc.cluster.local"), type: .aaaa,
            edns: EDNS(udpPayloadSize: 1232, dnssecOK: true, options: [EDNSOption(code: 10, data: Array(repeating: 7, count: 8)), EDNSOption(code: 12, data: [])]))),
    ]

    @Test("20,000 mutated queries: what the view reads, the strict decoder reads the same way")
    func viewAndDecoderAgree() throws {
        var random = SplitMix64(seed: 0x5eed_0f_0de)
        var viewed = 0
        for round in 0..<20_000 {
            let bytes = FuzzTests.mutate(Self.seeds[round % Self.seeds.count], using: &random)
            guard let view = Self.view(bytes) else { continue }
            viewed += 1
            let message = try #require(try? DNSMessageDecoder.decode(bytes: bytes), "the view took a query the decoder rejects: \(bytes)")
            #expect(message.questions.count == 1 && message.answers.isEmpty && message.authority.isEmpty && message.additional.isEmpty)
            let question = try #require(message.questions.first)
            #expect(view.nameEnd == 12 + question.name.wire.count)
            #expect(view.type == question.type.rawValue && view.class == question.class.rawValue)
            #expect(view.hasEDNS == (message.edns != nil))
            #expect(message.edns.map { $0.version == 0 } ?? true)
            #expect(view.maxSize == DNSTransport.udp.responseLimit(clientPayloadSize: message.edns?.udpPayloadSize))
            var hasher = NameHasher()
            for byte in question.name.lowercased().wire { hasher.add(byte) }
            #expect(view.nameHash == hasher.value)
        }
        #expect(viewed > 1_000, "mutations that keep a query valid (an ID, a flag bit) must be read")
    }

    /// The view used to skip EDNS options without checking their lengths, so a query the strict
    /// decoder rejects as FORMERR could be answered, and its answer cached for well-formed askers.
    @Test("an EDNS option that runs past the OPT data is not a query the view reads")
    func optionOverrunningTheOPTData() throws {
        var bytes = DNSMessageEncoder.encode(.query(id: 9, name: name("db.shop.svc.cluster.local"), type: .a, edns: EDNS(options: [EDNSOption(code: 10, data: [1, 2, 3, 4])])))
        // The option's length says 40 bytes; RDLENGTH still covers just the 8 there are.
        bytes[bytes.count - 5] = 40
        #expect(Self.view(bytes) == nil)
        #expect(throws: DNSWireError.self) { try DNSMessageDecoder.decode(bytes: bytes) }
        // An option header cut by the end of the data, and a stray byte after the last option.
        var cut = DNSMessageEncoder.encode(.query(id: 9, name: name("db"), type: .a, edns: EDNS()))
        cut[cut.count - 1] = 2
        cut += [0, 10]
        #expect(Self.view(cut) == nil)
        #expect(throws: DNSWireError.self) { try DNSMessageDecoder.decode(bytes: cut) }
    }

    /// The view used to allow a name of 256 wire bytes, one more than the decoder allows.
    @Test("a question name is at most 255 bytes for the view as for the decoder")
    func nameLengthLimit() throws {
        // Four labels of 63 bytes and the root: 4 * 64 + 1 = 257 bytes; three and one of 62: 255.
        func query(labels: [Int]) -> [UInt8] {
            var bytes: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
            for length in labels { bytes += [UInt8(length)] + Array(repeating: UInt8(ascii: "a"), count: length) }
            return bytes + [0, 0, 1, 0, 1]
        }
        let longest = query(labels: [63, 63, 63, 61])  // 255 bytes
        #expect(Self.view(longest) != nil)
        #expect((try? DNSMessageDecoder.decode(bytes: longest)) != nil)
        let tooLong = query(labels: [63, 63, 63, 62])  // 256 bytes
        #expect(Self.view(tooLong) == nil)
        #expect(throws: DNSWireError.self) { try DNSMessageDecoder.decode(bytes: tooLong) }
    }

    @Test("the response size limit: 512 without EDNS over UDP, the client's size kept between 512 and ours, 65535 over TCP")
    func responseLimits() {
        #expect(DNSTransport.udp.responseLimit(clientPayloadSize: nil) == 512)
        #expect(DNSTransport.udp.responseLimit(clientPayloadSize: 100) == 512)
        #expect(DNSTransport.udp.responseLimit(clientPayloadSize: 900) == 900)
        #expect(DNSTransport.udp.responseLimit(clientPayloadSize: 4096) == 1232)
        #expect(DNSTransport.tcp.responseLimit(clientPayloadSize: 512) == 65535)
    }
}

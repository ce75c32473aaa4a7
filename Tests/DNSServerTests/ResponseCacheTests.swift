import ClusterDNS
import DNSServer
import DNSWire
import NIOCore
import ServiceRegistry
import Testing

/// Repeated questions are answered from cached bytes; these pin that a cached answer is exactly
/// what the full path would have said to that client.
@Suite struct ResponseCacheTests {
    let allocator = ByteBufferAllocator()

    func wire(_ name: String, _ type: RecordType, id: UInt16, edns: EDNS? = nil, recursionDesired: Bool = true) throws -> ByteBuffer {
        ByteBuffer(bytes: DNSMessageEncoder.encode(DNSMessage.query(id: id, name: try DNSName(name), type: type, recursionDesired: recursionDesired, edns: edns)))
    }

    @Test func aRepeatedQuestionGetsTheClientsIDFlagsAndSpelling() throws {
        let pipeline = QueryPipelineTests.pipeline()
        _ = pipeline.respond(to: try wire("api.shop.svc.cluster.local", .a, id: 1), over: .udp, allocator: allocator)
        let second = try #require(pipeline.respond(to: try wire("API.Shop.svc.cluster.local", .a, id: 2, recursionDesired: false), over: .udp, allocator: allocator))
        let message = try DNSMessageDecoder.decode(second)
        #expect(message.header.id == 2)
        #expect(!message.header.recursionDesired)
        #expect(message.questions.first?.name.description == "API.Shop.svc.cluster.local.")
        #expect(message.answers.map(\.name.description) == ["API.Shop.svc.cluster.local."])
        #expect(message.answers.map(\.data) == [.a(0x0a60_0014)])
    }

    @Test func cachedAndUncachedPipelinesAnswerAlike() throws {
        let cached = QueryPipelineTests.pipeline()
        let uncached = QueryPipeline(catalog: cached.catalog, cachingResponses: false)
        let questions: [(String, RecordType)] = [
            ("api.shop.svc.cluster.local", .a), ("api.shop.svc.cluster.local", .aaaa), ("api.shop.svc.cluster.local", .srv),
            ("web.shop.svc.cluster.local", .a), ("web-7.web.shop.svc.cluster.local", .a), ("nope.shop.svc.cluster.local", .a),
            ("cluster.local", .soa), ("example.com", .a), ("_http._tcp.web.shop.svc.cluster.local", .srv),
        ]
        for (name, type) in questions {
            for edns in [nil, EDNS(udpPayloadSize: 1232), EDNS(udpPayloadSize: 4096)] {
                for transport in [DNSTransport.udp, .tcp] {
                    for id: UInt16 in [10, 11] {  // the second round is served from the cache
                        let query = try wire(name, type, id: id, edns: edns)
                        let expected = uncached.respond(to: query, over: transport, allocator: allocator).map { Array($0.readableBytesView) }
                        let actual = cached.respond(to: query, over: transport, allocator: allocator).map { Array($0.readableBytesView) }
                        #expect(actual == expected, "\(name) \(type) edns=\(edns != nil) \(transport) id=\(id)")
                    }
                }
            }
        }
    }

    @Test func anEDNSQueryAndAPlainOneAreNotMixedUp() throws {
        let pipeline = QueryPipelineTests.pipeline()
        let plain = try wire("api.shop.svc.cluster.local", .a, id: 1)
        let withEDNS = try wire("api.shop.svc.cluster.local", .a, id: 2, edns: EDNS(udpPayloadSize: 512))
        for _ in 0..<2 {
            #expect(try DNSMessageDecoder.decode(#require(pipeline.respond(to: plain, over: .udp, allocator: allocator))).edns == nil)
            #expect(try DNSMessageDecoder.decode(#require(pipeline.respond(to: withEDNS, over: .udp, allocator: allocator))).edns != nil)
        }
    }

    @Test func aTruncatedUDPAnswerIsNotServedToTCP() throws {
        let pipeline = QueryPipelineTests.pipeline(endpointCount: 100)
        let query = try wire("web.shop.svc.cluster.local", .a, id: 3)
        for _ in 0..<2 {
            let udp = try DNSMessageDecoder.decode(#require(pipeline.respond(to: query, over: .udp, allocator: allocator)))
            let tcp = try DNSMessageDecoder.decode(#require(pipeline.respond(to: query, over: .tcp, allocator: allocator)))
            #expect(udp.header.isTruncated)
            #expect(tcp.answers.count == 100)
        }
    }
}

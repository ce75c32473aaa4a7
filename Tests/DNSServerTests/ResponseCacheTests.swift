import ClusterZones
import DNSServer
import DNSWire
import ServiceRegistry
import Testing

/// Repeated questions are answered from cached bytes; these pin that a cached answer is exactly
/// what the full path would have said to that client, and only while its catalog is current.
@Suite struct ResponseCacheTests {
    @Test func aRepeatedQuestionGetsTheClientsIDFlagsAndSpelling() throws {
        let pipeline = QueryPipelineTests.pipeline()
        #expect(pipeline.answer(try queryBytes("api.shop.svc.cluster.local", .a, id: 1))?.path == .general)
        let second = try #require(pipeline.answer(try queryBytes("API.Shop.svc.cluster.local", .a, id: 2, recursionDesired: false)))
        #expect(second.path == .cache)
        let message = try DNSMessageDecoder.decode(bytes: second.bytes)
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
        var cacheHits = 0
        var asked = Set<String>()
        for (name, type) in questions {
            for edns in [nil, EDNS(udpPayloadSize: 1232), EDNS(udpPayloadSize: 4096)] {
                for transport in [DNSTransport.udp, .tcp] {
                    for id: UInt16 in [10, 11] {  // the second round is served from the cache
                        let query = try queryBytes(name, type, id: id, edns: edns)
                        let expected = try #require(uncached.answer(query, over: transport))
                        let actual = try #require(cached.answer(query, over: transport))
                        // The cache keys on what shapes the answer: the question, the size limit
                        // (1232 for an EDNS 4096 over UDP too) and whether there is EDNS.
                        let limit = transport.responseLimit(clientPayloadSize: edns?.udpPayloadSize)
                        let seen = !asked.insert("\(name) \(type) \(limit) \(edns != nil)").inserted
                        #expect(expected.path == .general)
                        #expect(actual.path == (seen ? .cache : .general), "\(name) \(type) edns=\(edns != nil) \(transport) id=\(id)")
                        if actual.path == .cache { cacheHits += 1 }
                        #expect(actual.bytes == expected.bytes, "\(name) \(type) edns=\(edns != nil) \(transport) id=\(id)")
                    }
                }
            }
        }
        #expect(cacheHits == questions.count * 3 * 2 * 2 - asked.count)
    }

    @Test func anEDNSQueryAndAPlainOneAreNotMixedUp() throws {
        let pipeline = QueryPipelineTests.pipeline()
        let plain = try queryBytes("api.shop.svc.cluster.local", .a, id: 1)
        let withEDNS = try queryBytes("api.shop.svc.cluster.local", .a, id: 2, edns: EDNS(udpPayloadSize: 512))
        for _ in 0..<2 {
            #expect(try #require(try pipeline.decodedAnswer(plain)).edns == nil)
            #expect(try #require(try pipeline.decodedAnswer(withEDNS)).edns != nil)
        }
    }

    @Test func aTruncatedUDPAnswerIsNotServedToTCP() throws {
        let pipeline = QueryPipelineTests.pipeline(endpointCount: 100)
        let query = try queryBytes("web.shop.svc.cluster.local", .a, id: 3)
        for _ in 0..<2 {
            let udp = try #require(try pipeline.decodedAnswer(query, over: .udp))
            let tcp = try #require(try pipeline.decodedAnswer(query, over: .tcp))
            #expect(udp.header.isTruncated)
            #expect(tcp.answers.count == 100)
        }
    }

    /// The cache used to recognise a new catalog by its object identity without keeping it alive,
    /// so a later catalog allocated where a freed one lay looked like the old one, and a thread
    /// kept serving answers of a registry that no longer existed. Catalogs are made until one
    /// lands at the address of one the cache answered from (the allocator reuses freed blocks;
    /// usually at once, but a CI run on a busy machine once went 50 tries without).
    @Test func aCatalogAtAFreedCatalogsAddressIsNotServedItsAnswers() throws {
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"))
        func catalog(_ address: String) -> Catalog {
            let api = Service(name: "api", namespace: "shop", clusterIPs: [IPAddress(address)!], ports: [ServicePort(name: "http", port: 80)])
            return Catalog(snapshot: RegistrySnapshot(serial: 1, services: [api], endpointGroups: [:], pods: [], namespaces: ["shop"]), configuration: configuration)
        }
        let query = try queryBytes("api.shop.svc.cluster.local", .a)
        let pipeline = QueryPipeline(catalog: catalog("10.96.0.1"))
        let changed = RegistrySnapshot(serial: 2, services: [
            Service(name: "api", namespace: "shop", clusterIPs: [IPAddress("10.96.0.2")!], ports: [ServicePort(name: "http", port: 80)]),
        ], endpointGroups: [:], pods: [], namespaces: ["shop"])
        var reused = false
        for _ in 0..<2000 where !reused {
            #expect(try #require(try pipeline.decodedAnswer(query)).answers.map(\.data) == [.a(0x0a60_0001)])
            let answeredFrom = ObjectIdentifier(pipeline.catalog)
            pipeline.publish(catalog("10.96.0.1"))  // frees the catalog the cache answered from...
            // ...and the next catalog object allocated, before any of its parts, takes its place.
            let next = Catalog(snapshot: changed, configuration: configuration)
            reused = ObjectIdentifier(next) == answeredFrom
            pipeline.publish(reused ? next : catalog("10.96.0.1"))
        }
        try #require(reused, "the allocator never reused a catalog's address; nothing was tested")
        let answer = try #require(try pipeline.decodedAnswer(query))
        #expect(answer.answers.map(\.data) == [.a(0x0a60_0002)])
    }
}

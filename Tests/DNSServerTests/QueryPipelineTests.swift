import ClusterZones
import DNSServer
import DNSWire
import NIOCore
import ServiceRegistry
import Testing

/// The per-query path without sockets: what the transports hand to clients.
@Suite struct QueryPipelineTests {
    static let allocator = ByteBufferAllocator()

    /// A cluster with one ClusterIP service and one headless service of 100 ready endpoints.
    static func pipeline(endpointCount: Int = 100) -> QueryPipeline {
        let web = Service(name: "web", namespace: "shop", isHeadless: true, ports: [ServicePort(name: "http", port: 8080)])
        let api = Service(name: "api", namespace: "shop", clusterIPs: [IPAddress("10.96.0.20")!], ports: [ServicePort(name: "http", port: 80)])
        let endpoints = (0..<endpointCount).map { index in
            Endpoint(addresses: [IPAddress("10.244.\(index / 250).\(index % 250 + 1)")!], hostname: "web-\(index)")
        }
        let group = EndpointGroup(origin: .endpointSlice, object: ObjectReference(kind: "EndpointSlice", namespace: "shop", name: "web-1"),
                                  endpoints: endpoints, ports: [EndpointPort(name: "http", port: 8080)])
        let snapshot = RegistrySnapshot(serial: 7, services: [web, api], endpointGroups: [ObjectKey(namespace: "shop", name: "web"): [group]],
                                        pods: [], namespaces: ["shop"])
        return QueryPipeline(catalog: Catalog(snapshot: snapshot, configuration: ZoneConfiguration(domain: try! DNSName("cluster.local"))))
    }

    func respond(_ pipeline: QueryPipeline, _ bytes: [UInt8], over transport: DNSTransport = .udp) throws -> DNSMessage? {
        try pipeline.decodedAnswer(bytes, over: transport)
    }

    func query(_ name: String, _ type: RecordType, id: UInt16 = 0x4242, edns: EDNS? = nil) throws -> [UInt8] {
        try queryBytes(name, type, id: id, edns: edns)
    }

    @Test func answersAQueryWithTheQuestionEchoedAndAASet() throws {
        let response = try #require(try respond(Self.pipeline(), try query("api.shop.svc.cluster.local", .a)))
        #expect(response.header.id == 0x4242)
        #expect(response.header.isResponse)
        #expect(response.header.isAuthoritative)
        #expect(response.header.recursionDesired)
        #expect(!response.header.recursionAvailable)
        #expect(response.questions.map(\.description) == ["api.shop.svc.cluster.local. IN A"])
        #expect(response.answers.map(\.data) == [.a(0x0a60_0014)])
    }

    @Test func aResponseIsNeverAnswered() throws {
        var message = DNSMessage.query(id: 1, name: try DNSName("api.shop.svc.cluster.local"), type: .a)
        message.header.isResponse = true
        #expect(try respond(Self.pipeline(), DNSMessageEncoder.encode(message)) == nil)
    }

    @Test func aDatagramWithoutAHeaderIsDropped() throws {
        #expect(try respond(Self.pipeline(), [0x12, 0x34, 0x01]) == nil)
    }

    @Test(arguments: [
        // Question name runs off the end.
        [0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x61, 0x62],
        // A compression pointer to itself.
        [0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01],
        // Two questions.
        [0x12, 0x34, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01],
        // No question.
        [0x12, 0x34, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
    ] as [[UInt8]])
    func malformedQueriesGetFormatError(_ bytes: [UInt8]) throws {
        let response = try #require(try respond(Self.pipeline(), bytes))
        #expect(response.header.responseCode == .formatError)
        #expect(response.header.id == 0x1234)
        #expect(response.header.isResponse)
    }

    @Test func otherOpcodesGetNotImplemented() throws {
        var message = DNSMessage.query(id: 9, name: try DNSName("api.shop.svc.cluster.local"), type: .a)
        message.header.opcode = .update
        let response = try #require(try respond(Self.pipeline(), DNSMessageEncoder.encode(message)))
        #expect(response.header.responseCode == .notImplemented)
        #expect(response.header.opcode == .update)
    }

    @Test func zoneTransfersAreNotImplemented() throws {
        let response = try #require(try respond(Self.pipeline(), try query("cluster.local", .axfr), over: .tcp))
        #expect(response.header.responseCode == .notImplemented)
    }

    @Test func ednsIsAnsweredWithOurPayloadSize() throws {
        let response = try #require(try respond(Self.pipeline(), try query("api.shop.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 4096))))
        #expect(response.edns?.udpPayloadSize == 1232)
        #expect(response.edns?.version == 0)
    }

    @Test func anUnknownEDNSVersionGetsBadVersion() throws {
        let response = try #require(try respond(Self.pipeline(), try query("api.shop.svc.cluster.local", .a, edns: EDNS(version: 1))))
        #expect(response.responseCode == .badVersion)
        #expect(response.answers.isEmpty)
    }

    @Test func aLargeAnswerIsTruncatedOverUDPAndWholeOverTCP() throws {
        let pipeline = Self.pipeline(endpointCount: 100)
        let name = "web.shop.svc.cluster.local"
        let plain = try #require(try respond(pipeline, try query(name, .a)))
        #expect(plain.header.isTruncated)
        #expect(DNSMessageEncoder.encode(plain).count <= 512)

        let withEDNS = try #require(pipeline.answer(try query(name, .a, edns: EDNS(udpPayloadSize: 1232))))
        let decoded = try DNSMessageDecoder.decode(bytes: withEDNS.bytes)
        #expect(decoded.header.isTruncated)
        #expect(decoded.edns != nil)
        // Minimal: no part of the RRset, so the truncated answer is no bigger than the query (it
        // used to carry 73 of the 100 records: an amplifier).
        #expect(decoded.answers.isEmpty)
        #expect(withEDNS.bytes.count == (try query(name, .a, edns: EDNS(udpPayloadSize: 1232))).count)

        let overTCP = try #require(try respond(pipeline, try query(name, .a), over: .tcp))
        #expect(!overTCP.header.isTruncated)
        #expect(overTCP.answers.count == 100)
    }

    @Test func aSmallClientBufferIsRespected() throws {
        let pipeline = Self.pipeline(endpointCount: 30)
        let response = try #require(pipeline.answer(try query("web.shop.svc.cluster.local", .a, edns: EDNS(udpPayloadSize: 600))))
        #expect(response.bytes.count <= 600)
    }

    @Test func publishingACatalogChangesLaterAnswers() throws {
        let pipeline = Self.pipeline()
        let before = try #require(try respond(pipeline, try query("api.shop.svc.cluster.local", .a)))
        #expect(before.answers.count == 1)
        pipeline.publish(Catalog(snapshot: .empty, configuration: ZoneConfiguration(domain: try DNSName("cluster.local"))))
        let after = try #require(try respond(pipeline, try query("api.shop.svc.cluster.local", .a)))
        #expect(after.header.responseCode == .nameError)
    }
}

extension QueryPipelineTests {
    /// What the view does not take goes to the strict decoder, whose errors are never cached: a
    /// malformed EDNS query cannot turn the answer for its name into FORMERR for everyone after.
    @Test func aMalformedQueryGetsFormatErrorAndLeavesTheNameAnswerable() throws {
        let pipeline = Self.pipeline()
        var malformed = try query("api.shop.svc.cluster.local", .a, edns: EDNS(options: [EDNSOption(code: 10, data: [1, 2, 3, 4])]))
        malformed[malformed.count - 5] = 40  // the option claims more than the OPT data holds
        for _ in 0..<2 {
            let rejected = try #require(pipeline.answer(malformed))
            #expect(rejected.path == .strict)
            #expect(try DNSMessageDecoder.decode(bytes: rejected.bytes).header.responseCode == .formatError)
        }
        for edns in [EDNS(udpPayloadSize: 1232), EDNS(udpPayloadSize: 4096)] {
            let response = try #require(try respond(pipeline, try query("api.shop.svc.cluster.local", .a, edns: edns)))
            #expect(response.header.responseCode == .noError)
            #expect(response.answers.map(\.data) == [.a(0x0a60_0014)])
        }
    }

    @Test func recursionDesiredAndCheckingDisabledAreEchoedOnEveryPath() throws {
        let pipeline = Self.pipeline()
        pipeline.compileAnswers()
        for name in ["api.shop.svc.cluster.local", "nope.shop.svc.cluster.local"] {
            var message = DNSMessage.query(id: 5, name: try DNSName(name), type: .a, recursionDesired: false)
            message.header.checkingDisabled = true
            for _ in 0..<2 {  // the second time from the cache, for the name the table lacks
                let response = try #require(try respond(pipeline, DNSMessageEncoder.encode(message)))
                #expect(!response.header.recursionDesired)
                #expect(response.header.checkingDisabled)
            }
        }
    }
}

import DNSServer
import Foundation
import DNSWire
import NIOCore
import SpecSupport
import Testing

/// The UDP transport over real loopback sockets, with each engine (NIO channels, recvmmsg loop).
@Suite struct TransportUDPTests {
    @Test(arguments: UDPEngine.allCases)
    func answersADatagramWithTheResponderOverUDP(_ engine: UDPEngine) async throws {
        try await TestListener.with(TestListener.configuration(udpEngine: engine)) { listener in
            let client = try TestSocket.udp(for: listener.localAddress)
            let query = TestMessages.query(id: 0x1234)
            try client.send(query, to: listener.localAddress)
            #expect(client.receive() == .bytes(TestResponder().expectedEcho(of: query, over: .udp)))
        }
    }

    @Test(arguments: UDPEngine.allCases)
    func answersEveryQueryOfABurstFromSeveralClients(_ engine: UDPEngine) async throws {
        try await TestListener.with(TestListener.configuration(udpEngine: engine)) { listener in
            let clients = try (0..<4).map { _ in try TestSocket.udp(for: listener.localAddress) }
            let queriesPerClient = 200
            for id in 0..<queriesPerClient {
                for client in clients {
                    try client.send(TestMessages.query(id: UInt16(id)), to: listener.localAddress)
                }
            }
            for (index, client) in clients.enumerated() {
                var answered = Set<UInt16>()
                while answered.count < queriesPerClient, case .bytes(let response) = client.receive() {
                    answered.insert(TestMessages.id(of: response))
                }
                #expect(answered == Set(0..<UInt16(queriesPerClient)), "client \(index)")
            }
        }
    }

    /// Bursts reach the batch engine many datagrams per system call, so its prefetching and the
    /// copying of compiled answers run for whole batches; every reply must still be the general
    /// path's answer to that very query.
    @Test(arguments: UDPEngine.allCases)
    func aBurstIsAnsweredFromCompiledAnswersAsTheGeneralPathAnswers(_ engine: UDPEngine) async throws {
        let pipeline = QueryPipelineTests.pipeline(endpointCount: 4)
        pipeline.compileAnswers()
        let general = QueryPipeline(catalog: pipeline.catalog, cachingResponses: false)
        let questions: [(String, RecordType)] = [
            ("api.shop.svc.cluster.local", .a), ("API.shop.svc.cluster.local", .aaaa), ("web.shop.svc.cluster.local", .a),
            ("web-2.web.shop.svc.cluster.local", .a), ("_http._tcp.api.shop.svc.cluster.local", .srv),
            ("20.0.96.10.in-addr.arpa", .ptr), ("nope.shop.svc.cluster.local", .a), ("cluster.local", .soa),
        ]
        try await TestListener.with(TestListener.configuration(udpEngine: engine), responder: pipeline) { listener in
            let clients = try (0..<2).map { _ in try TestSocket.udp(for: listener.localAddress) }
            var expected: [UInt16: [UInt8]] = [:]
            for id in 0..<UInt16(200) {
                let (name, type) = questions[Int(id) % questions.count]
                let edns: EDNS? = id % 3 == 0 ? EDNS(udpPayloadSize: 1232) : nil
                let query = DNSMessageEncoder.encode(DNSMessage.query(id: id, name: try DNSName(name), type: type, edns: edns))
                expected[id] = general.answer(query)?.bytes
                try clients[Int(id) % 2].send(query, to: listener.localAddress)
            }
            for (index, client) in clients.enumerated() {
                var answered = Set<UInt16>()
                while answered.count < 100, case .bytes(let response) = client.receive() {
                    let id = TestMessages.id(of: response)
                    #expect(response == expected[id], "query \(id)")
                    answered.insert(id)
                }
                #expect(answered == Set(stride(from: UInt16(index), to: 200, by: 2)), "client \(index)")
            }
        }
    }

    @Test(arguments: UDPEngine.allCases)
    func sendsNothingWhenTheResponderReturnsNil(_ engine: UDPEngine) async throws {
        try await TestListener.with(TestListener.configuration(udpEngine: engine)) { listener in
            let client = try TestSocket.udp(for: listener.localAddress)
            try client.send(TestMessages.dropped(id: 1), to: listener.localAddress)
            try client.send(TestMessages.query(id: 2), to: listener.localAddress)
            // Datagrams are answered in order on one socket, so the first reply must be the second query's.
            guard case .bytes(let response) = client.receive() else { Issue.record("no response"); return }
            #expect(TestMessages.id(of: response) == 2)
            #expect(client.receive(timeout: .milliseconds(100)) == .timedOut)
        }
    }

    @Test(arguments: UDPEngine.allCases)
    func keepsServingAfterAClientSocketGoesAway(_ engine: UDPEngine) async throws {
        try await TestListener.with(TestListener.configuration(udpEngine: engine)) { listener in
            // The reply to a closed socket draws an ICMP port unreachable; the server must shrug it off.
            do {
                let gone = try TestSocket.udp(for: listener.localAddress)
                try gone.send(TestMessages.sizeRequest(id: 1, size: 1000), to: listener.localAddress)
            }
            let client = try TestSocket.udp(for: listener.localAddress)
            for id in 2...4 {
                try client.send(TestMessages.query(id: UInt16(id)), to: listener.localAddress)
                guard case .bytes(let response) = client.receive() else { Issue.record("no response to \(id)"); return }
                #expect(TestMessages.id(of: response) == UInt16(id))
            }
        }
    }
}

/// Counts what a transport asks of its responder, around a real one.
final class CountingResponder: DNSResponder, @unchecked Sendable {
    let inner: any DNSResponder
    private let lock = NSLock()
    private var counts = (reads: 0, responses: 0)

    init(_ inner: any DNSResponder) { self.inner = inner }

    var reads: Int { lock.withLock { counts.reads } }
    var responses: Int { lock.withLock { counts.responses } }

    func batch() -> any DNSBatchResponder { Batch(inner: inner.batch(), counter: self) }

    func count(read: Int = 0, response: Int = 0) {
        lock.withLock {
            counts.reads += read
            counts.responses += response
        }
    }

    struct Batch: DNSBatchResponder {
        let inner: any DNSBatchResponder
        let counter: CountingResponder

        func read(_ query: UnsafeRawBufferPointer, over transport: DNSTransport) -> ReadQuery {
            counter.count(read: 1)
            return inner.read(query, over: transport)
        }

        func prefetch(_ read: ReadQuery) { inner.prefetch(read) }

        func respond(to query: UnsafeRawBufferPointer, _ read: ReadQuery, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> DNSResponse? {
            counter.count(response: 1)
            return inner.respond(to: query, read, over: transport, into: output)
        }
    }
}

@Suite struct TransportPipelineTests {
    /// A query the table and the cache miss used to be parsed again and sent down the chain a
    /// second time by the batch engine; now each datagram is read once and answered once.
    @Test(arguments: UDPEngine.allCases)
    func everyDatagramIsReadOnceAndAnsweredOnce(_ engine: UDPEngine) async throws {
        let pipeline = QueryPipelineTests.pipeline(endpointCount: 4)
        pipeline.compileAnswers()
        let counting = CountingResponder(pipeline)
        let names = ["api.shop.svc.cluster.local", "nope.shop.svc.cluster.local", "web-1.web.shop.svc.cluster.local", "example.com"]
        try await TestListener.with(TestListener.configuration(udpEngine: engine), responder: counting) { listener in
            let client = try TestSocket.udp(for: listener.localAddress)
            for (id, name) in names.enumerated() {
                try client.send(try queryBytes(name, .a, id: UInt16(id)), to: listener.localAddress)
                guard case .bytes = client.receive() else { Issue.record("no answer for \(name)"); return }
            }
        }
        #expect(counting.reads == names.count)
        #expect(counting.responses == names.count)
    }

    /// Both engines read a query up to `DNSTransport.largestUDPQuery` bytes (the NIO engine used to
    /// stop at 2048): a 3,000-byte query padded with an EDNS option is answered alike by both.
    @Test(arguments: UDPEngine.allCases)
    func aLargeQueryIsAnsweredByEitherEngine(_ engine: UDPEngine) async throws {
        let pipeline = QueryPipelineTests.pipeline(endpointCount: 4)
        let padding = EDNSOption(code: 12, data: Array(repeating: 0, count: 2_940))  // RFC 7830 padding
        let query = try queryBytes("api.shop.svc.cluster.local", .a, id: 77, edns: EDNS(options: [padding]))
        #expect(query.count > 2_048 && query.count <= DNSTransport.largestUDPQuery)
        let expected = try #require(pipeline.answer(query)?.bytes)
        try await TestListener.with(TestListener.configuration(udpEngine: engine), responder: pipeline) { listener in
            let client = try TestSocket.udp(for: listener.localAddress)
            try client.send(query, to: listener.localAddress)
            #expect(client.receive() == .bytes(expected))
        }
    }
}

@Suite struct TransportOversizedUDPTests {
    /// A datagram longer than the largest query read used to be answered as if the part that fit
    /// were the whole query (the batch engine ignored MSG_TRUNC). Here the part that fits is a
    /// valid 4096-byte query, so only the datagram's real length says it is not one.
    @Test(arguments: UDPEngine.allCases)
    func aDatagramLongerThanTheLargestQueryIsNotAnswered(_ engine: UDPEngine) async throws {
        let pipeline = QueryPipelineTests.pipeline(endpointCount: 4)
        var padding = EDNSOption(code: 12, data: [])
        let bare = try queryBytes("api.shop.svc.cluster.local", .a, id: 1, edns: EDNS(options: [padding]))
        padding.data = Array(repeating: 0, count: DNSTransport.largestUDPQuery - bare.count)
        let fits = try queryBytes("api.shop.svc.cluster.local", .a, id: 1, edns: EDNS(options: [padding]))
        #expect(fits.count == DNSTransport.largestUDPQuery)
        try await TestListener.with(TestListener.configuration(udpEngine: engine), responder: pipeline) { listener in
            let client = try TestSocket.udp(for: listener.localAddress)
            try client.send(fits, to: listener.localAddress)
            #expect(client.receive() != .timedOut, "a query of exactly the largest size is answered")
            try client.send(fits + Array(repeating: 0xee, count: 1000), to: listener.localAddress)
            try client.send(try queryBytes("api.shop.svc.cluster.local", .a, id: 2), to: listener.localAddress)
            guard case .bytes(let response) = client.receive() else { Issue.record("no answer to the query after it"); return }
            #expect(TestMessages.id(of: response) == 2, "the oversized datagram was answered")
        }
    }
}

@Suite struct TransportPoisoningTests {
    /// One query whose EDNS option overran the OPT data used to get FORMERR, and that FORMERR was
    /// cached under the question: every well-formed EDNS query for the name got FORMERR after it
    /// (search-path names, ExternalName Services, names outside the zones; over TCP too).
    @Test(arguments: UDPEngine.allCases)
    func aMalformedQueryDoesNotChangeTheAnswerOthersGet(_ engine: UDPEngine) async throws {
        let pipeline = QueryPipeline(catalog: SpecFixture.catalog())
        pipeline.compileAnswers()
        let names = ["db.shop.svc.cluster.local", "google.com.shop.svc.cluster.local", "example.com", "api.shop.svc.cluster.local"]
        try await TestListener.with(TestListener.configuration(udpEngine: engine), responder: pipeline) { listener in
            let udp = try TestSocket.udp(for: listener.localAddress)
            let tcp = try TestSocket.tcp(connectingTo: listener.localAddress)
            for name in names {
                var malformed = try queryBytes(name, .a, id: 1, edns: EDNS(options: [EDNSOption(code: 10, data: [1, 2, 3, 4])]))
                malformed[malformed.count - 5] = 40  // the option claims more than the OPT data holds
                try udp.send(malformed, to: listener.localAddress)
                guard case .bytes(let rejected) = udp.receive() else { Issue.record("\(name): no FORMERR"); continue }
                #expect(try DNSMessageDecoder.decode(bytes: rejected).header.responseCode == .formatError)
                for (id, payload) in [(2, UInt16(1232)), (3, 4096)] {
                    let query = try queryBytes(name, .a, id: UInt16(id), edns: EDNS(udpPayloadSize: payload))
                    try udp.send(query, to: listener.localAddress)
                    try tcp.sendAll(TestMessages.framed(query))
                    for (transport, read) in [("UDP", udp.receive()), ("TCP", tcp.receiveFrame())] {
                        guard case .bytes(let bytes) = read else { Issue.record("\(name) \(transport): no answer"); continue }
                        let code = try DNSMessageDecoder.decode(bytes: bytes).header.responseCode
                        #expect(code != .formatError, "\(name) over \(transport) got FORMERR after a malformed query")
                    }
                }
            }
        }
    }
}

@Suite struct TransportRateLimitTests {
    /// 50,000 identical queries from one source used to be answered in full. With a limit, a
    /// netblock gets its rate; past it, every second response is a minimal truncated one (a real
    /// client retries over TCP) and the rest are dropped; another netblock is still answered.
    @Test(arguments: UDPEngine.allCases)
    func aFloodFromOneNetblockIsLimitedAndOthersAreStillAnswered(_ engine: UDPEngine) async throws {
        let pipeline = QueryPipelineTests.pipeline(endpointCount: 4)
        var configuration = TestListener.configuration(udpEngine: engine)
        configuration.rateLimit = ResponseRateLimit(responsesPerSecond: 20, slip: 2)
        let query = try queryBytes("web.shop.svc.cluster.local", .a, id: 7)
        try await TestListener.with(configuration, responder: pipeline) { listener in
            let flooder = try TestSocket.udp(for: listener.localAddress, from: "127.0.0.2")
            var answered = 0, truncated = 0, silent = 0
            for _ in 0..<200 {
                try flooder.send(query, to: listener.localAddress)
                guard case .bytes(let bytes) = flooder.receive(timeout: .milliseconds(50)) else { silent += 1; continue }
                let response = try DNSMessageDecoder.decode(bytes: bytes)
                if response.header.isTruncated {
                    truncated += 1
                    #expect(response.answers.isEmpty && bytes.count == query.count)
                } else {
                    answered += 1
                }
            }
            // 20 in the bucket plus what refills while the test runs (a few seconds at most).
            #expect(answered >= 20 && answered < 120, "\(answered) answered")
            #expect(truncated > 0 && abs(truncated - silent) <= answered / 2 + 5, "\(truncated) truncated, \(silent) dropped")

            let neighbour = try TestSocket.udp(for: listener.localAddress, from: "127.0.1.2")  // another /24
            try neighbour.send(query, to: listener.localAddress)
            guard case .bytes(let bytes) = neighbour.receive() else { Issue.record("another netblock was not answered"); return }
            #expect(try !DNSMessageDecoder.decode(bytes: bytes).header.isTruncated)
            let overTCP = try TestSocket.tcp(connectingTo: listener.localAddress, from: "127.0.0.2")  // TCP is never limited
            try overTCP.sendAll(TestMessages.framed(query))
            #expect(overTCP.receiveFrame() != .timedOut)
        }
    }
}

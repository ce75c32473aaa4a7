import DNSServer
import DNSWire
import NIOCore
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

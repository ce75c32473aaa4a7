import DNSServer
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
                try gone.send(TestMessages.sizeRequest(id: 1, size: 4000), to: listener.localAddress)
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

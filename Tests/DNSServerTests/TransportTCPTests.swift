import DNSServer
import DNSWire
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The TCP transport over real loopback sockets: framing, ordering, limits and timeouts.
@Suite struct TransportTCPTests {
    @Test func answersALengthPrefixedQueryOverTCP() async throws {
        try await TestListener.with { listener in
            let client = try TestSocket.tcp(connectingTo: listener.localAddress)
            let query = TestMessages.query(id: 0xBEEF)
            try client.sendAll(TestMessages.framed(query))
            #expect(client.receiveFrame() == .bytes(TestResponder().expectedEcho(of: query, over: .tcp)))
        }
    }

    @Test func answersPipelinedQueriesInOrderOnOneConnection() async throws {
        try await TestListener.with { listener in
            let client = try TestSocket.tcp(connectingTo: listener.localAddress)
            // One write carrying both frames, and a dropped query between them that gets no answer.
            try client.sendAll(TestMessages.framed(TestMessages.query(id: 1)) + TestMessages.framed(TestMessages.dropped(id: 9))
                + TestMessages.framed(TestMessages.sizeRequest(id: 2, size: 3000)))
            guard case .bytes(let first) = client.receiveFrame(), case .bytes(let second) = client.receiveFrame() else {
                Issue.record("missing responses"); return
            }
            #expect(TestMessages.id(of: first) == 1)
            #expect(TestMessages.id(of: second) == 2)
            #expect(second.count == 3000)
        }
    }

    @Test func reassemblesAQuerySplitAcrossWrites() async throws {
        try await TestListener.with { listener in
            let client = try TestSocket.tcp(connectingTo: listener.localAddress)
            let framed = TestMessages.framed(TestMessages.query(id: 5))
            try client.sendAll(Array(framed[0..<1]))
            // A blocking pause: an awaited one can resume many seconds late while the whole suite's
            // blocking tests hold the few cooperative threads, and by then the server has closed
            // the connection for sending no whole query in time.
            usleep(20_000)
            try client.sendAll(Array(framed[1...]))
            guard case .bytes(let response) = client.receiveFrame() else { Issue.record("no response"); return }
            #expect(TestMessages.id(of: response) == 5)
        }
    }

    @Test func sendsA60KBResponseWhole() async throws {
        try await TestListener.with { listener in
            let client = try TestSocket.tcp(connectingTo: listener.localAddress)
            try client.sendAll(TestMessages.framed(TestMessages.sizeRequest(id: 3, size: 60_000)))
            guard case .bytes(let response) = client.receiveFrame() else { Issue.record("no response"); return }
            #expect(response.count == 60_000)
            #expect(TestMessages.id(of: response) == 3)
            #expect(response[59_999] == UInt8(truncatingIfNeeded: 59_999))
        }
    }

    @Test func answersQueriesSentBeforeTheClientHalfCloses() async throws {
        try await TestListener.with { listener in
            let client = try TestSocket.tcp(connectingTo: listener.localAddress)
            try client.sendAll(TestMessages.framed(TestMessages.sizeRequest(id: 4, size: 50_000)))
            client.shutdownWrite()
            guard case .bytes(let response) = client.receiveFrame() else { Issue.record("no response"); return }
            #expect(response.count == 50_000)
            #expect(client.waitForClose() == .closed)
        }
    }

    @Test func closesAnIdleConnectionAfterTheTimeout() async throws {
        var configuration = TestListener.configuration()
        configuration.tcpIdleTimeout = .milliseconds(300)
        try await TestListener.with(configuration) { listener in
            let client = try TestSocket.tcp(connectingTo: listener.localAddress)
            try client.sendAll(TestMessages.framed(TestMessages.query(id: 1)))
            #expect(client.receiveFrame() != .timedOut)
            let start = ContinuousClock.now
            #expect(client.waitForClose(timeout: .seconds(3)) == .closed)
            let waited = ContinuousClock.now - start
            #expect(waited >= .milliseconds(200) && waited < .seconds(2), "closed after \(waited)")
        }
    }

    @Test(arguments: [
        ("zero-length frame", [UInt8(0), 0]),
        ("frame over maxTCPQuerySize", [UInt8(0x03), 0xE8] + Array(repeating: UInt8(0), count: 100)),
    ])
    func closesTheConnectionOnABadFrame(_ label: String, _ bytes: [UInt8]) async throws {
        var configuration = TestListener.configuration()
        configuration.maxTCPQuerySize = 512
        try await TestListener.with(configuration) { listener in
            let client = try TestSocket.tcp(connectingTo: listener.localAddress)
            try client.sendAll(bytes)
            #expect(client.waitForClose() == .closed, "\(label)")
        }
    }

    @Test func closesConnectionsBeyondTheCapAndAdmitsAgainWhenOneCloses() async throws {
        var configuration = TestListener.configuration()
        configuration.maxTCPConnections = 2
        try await TestListener.with(configuration) { listener in
            var admitted = try (0..<2).map { _ in try TestSocket.tcp(connectingTo: listener.localAddress) }
            for (index, client) in admitted.enumerated() {
                try client.sendAll(TestMessages.framed(TestMessages.query(id: UInt16(index))))
                #expect(client.receiveFrame() != .timedOut)
            }
            let refused = try TestSocket.tcp(connectingTo: listener.localAddress)
            #expect(refused.waitForClose() == .closed)

            admitted.removeFirst()   // closes its socket; the server frees the slot once it sees that
            let deadline = ContinuousClock.now + .seconds(2)
            var answered = false
            while !answered, ContinuousClock.now < deadline {
                let client = try TestSocket.tcp(connectingTo: listener.localAddress)
                try? client.sendAll(TestMessages.framed(TestMessages.query(id: 7)))
                if case .bytes = client.receiveFrame(timeout: .milliseconds(200)) { answered = true }
            }
            #expect(answered)
        }
    }
}

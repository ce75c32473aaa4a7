import DNSWire

/// Loop detection at start, as CoreDNS's `loop` plugin does it: a query for a random name under
/// the root (in no zone of ours, so it is forwarded) goes to every upstream; if it reaches our own
/// listener, an upstream forwards back to us and every forwarded query would circle until it timed
/// out. Seeing the probe, the server answers it SERVFAIL at once instead of forwarding it again.
extension Forwarder {
    /// Sends the probe through each upstream and throws when it came back to this server. Call it
    /// once the listener answers. An upstream that does not answer is no loop (it may be down).
    public func detectLoop() async throws(ForwardingError) {
        let name = try! DNSName("\(Self.randomLabel()).\(Self.randomLabel()).")
        loopProbe.withLock { $0 = (name, 0) }
        defer { loopProbe.withLock { $0 = (nil, 0) } }
        for upstream in upstreams {
            _ = try? await UpstreamExchange.exchange(
                DNSQuestion(name: name, type: .hinfo), with: upstream.address.socketAddress, overTCP: false,
                timeout: configuration.attemptTimeout, group: eventLoops)
            if loopProbe.withLock({ $0.sightings }) > 0 {
                throw ForwardingError(
                    .loop,
                    "our probe query for \(name) HINFO, sent to this upstream, came back to this server: it forwards (directly or through others) to us, so forwarding would loop; forward to a resolver that does not send queries back here",
                    location: "upstream \(upstream.address)")
            }
        }
    }

    /// Whether `question` is the loop probe, counting it when it is.
    func sawLoopProbe(_ question: DNSQuestion) -> Bool {
        loopProbe.withLock { probe in
            guard let name = probe.name, question.name.equalsIgnoringCase(name) else { return false }
            probe.sightings += 1
            return true
        }
    }

    private static func randomLabel() -> String {
        String(UInt64.random(in: .min ... .max), radix: 36)
    }
}

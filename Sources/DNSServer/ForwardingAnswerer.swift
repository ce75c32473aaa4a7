import ClusterZones
import DNSWire
import Forwarding
import NIOCore

/// The link for what the zones cannot answer alone, when a forwarder is configured: a name outside
/// every zone goes upstream whole; an ExternalName whose target is outside them gets our CNAME
/// followed by the target's records from upstream. A cached upstream answer is written at once;
/// anything else is deferred and written later, from the forwarder's thread, through the
/// transport's `DeferredReply`. Either way the response is made by the same encoder and
/// `writeResponse` as every other answer, so header bits, OPT and case follow the one set of rules.
struct ForwardingAnswerer {
    let forwarder: Forwarder
    let catalog: Catalog

    /// What to ask upstream for `question`, and the part of the answer that is ours.
    struct Upstream {
        var question: DNSQuestion
        /// Our records that come first (an ExternalName's CNAME); nil when the name is not ours.
        var ours: Answer?
    }

    /// Whether `question` goes upstream whole: class IN, outside every zone, and not a zone
    /// transfer (which is not ours to proxy).
    func takesWhole(_ question: DNSQuestion) -> Bool {
        question.class == .in && question.type != .axfr && question.type != .ixfr && !catalog.holds(question.name)
    }

    /// The upstream question that completes the zones' `answer` to `question`: the target of a
    /// CNAME chain ending outside every zone (an ExternalName), which the zones could not chase.
    func chase(_ answer: Answer, of question: DNSQuestion) -> Upstream? {
        guard question.type != .cname, answer.responseCode == .noError, let last = answer.answers.last,
            case .cname(let target) = last.data, !catalog.holds(target.lowercased())
        else { return nil }
        return Upstream(question: DNSQuestion(name: target.lowercased(), type: question.type, class: question.class), ours: answer)
    }

    /// Writes the cached answer to `upstream`, or asks the forwarder and returns a deferred
    /// response; nil when the transport cannot take a deferred one (`later` gives nil).
    func answer(
        _ upstream: Upstream, to question: DNSQuestion, _ view: DNSQueryView, query: UnsafeRawBufferPointer, over transport: DNSTransport,
        scratch: inout ByteBuffer, into output: UnsafeMutableRawBufferPointer, later: () -> DeferredReply?
    ) -> DNSResponse? {
        if let cached = forwarder.cachedAnswer(to: upstream.question) {
            let answer = Self.response(cached, after: upstream.ours)
            return view.write(answer, to: question, query: query, scratch: &scratch, into: output).map { DNSResponse(length: $0, path: .forwardCache) }
        }
        guard let route = later() else { return nil }
        let queryBytes = Array(query)
        forwarder.resolve(upstream.question, overTCP: transport == .tcp) { forwarded in
            let answer = Self.response(forwarded, after: upstream.ours)
            var scratch = ByteBufferAllocator().buffer(capacity: 512)
            var response = ByteBufferAllocator().buffer(capacity: view.maxSize)
            response.writeWithUnsafeMutableBytes(minimumWritableBytes: view.maxSize) { output in
                queryBytes.withUnsafeBytes { query in
                    view.write(answer, to: question, query: query, scratch: &scratch, into: output) ?? 0
                }
            }
            guard response.readableBytes > 0 else { return }
            route.send(response)
        }
        return DNSResponse(length: 0, path: .forwarded)
    }

    /// The response to a question answered upstream, after our part of it if any. Not
    /// authoritative unless it starts with our records (AA speaks of the first owner name);
    /// recursion available. After our CNAME the rcode and authority are the target's (RFC 6604:
    /// NXDOMAIN for a CNAME to a name that does not exist, with that zone's SOA).
    static func response(_ forwarded: ForwardedAnswer, after ours: Answer?) -> Answer {
        Answer(
            responseCode: forwarded.responseCode, authoritative: ours?.authoritative ?? false,
            answers: (ours?.answers ?? []) + forwarded.answers, authority: forwarded.authority, additional: forwarded.additional,
            recursionAvailable: true)
    }
}

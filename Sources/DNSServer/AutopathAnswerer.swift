import ClusterZones
import DNSWire
import Forwarding
import ServiceRegistry

/// `serve --autopath`: a query that the zones answered NXDOMAIN, asked as the first search-path
/// expansion of a client whose namespace the registry knows, is answered with the first later
/// expansion that exists, as a CNAME from the asked name to it (CoreDNS's autopath). The client's
/// `ndots:5` walk of `svc.<zone>`, `<zone>` and the bare name becomes one round trip.
///
/// It runs after the chain, on NXDOMAIN responses only, so the answer table and the response
/// cache keep serving every client the same bytes. The bare name outside the cluster is answered
/// only from the forwarder's cache: waiting for an upstream here would hold the client longer than
/// its own walk, which ends at the forwarder anyway.
struct AutopathAnswerer {
    let catalog: Catalog
    let forwarder: Forwarder?

    /// The answer to the query's `question` through the client's search path; nil when autopath
    /// does not apply or no later expansion exists.
    func answer(to question: DNSQuestion, client: IPAddress) -> Answer? {
        guard question.class == .in, let namespace = catalog.clientNamespace(of: client),
            let path = catalog.searchPath(after: question.name, clientNamespace: namespace)
        else { return nil }
        for candidate in path {
            let asked = DNSQuestion(name: candidate, type: question.type, class: question.class)
            let found: Answer
            if catalog.holds(candidate) {
                found = catalog.answer(asked)
            } else if let cached = forwarder?.cachedAnswer(to: asked) {
                found = ForwardingAnswerer.response(cached, after: nil)
            } else {
                continue
            }
            guard found.responseCode != .nameError else { continue }
            let alias = ResourceRecord(name: question.name, ttl: catalog.configuration.ttl, data: .cname(candidate))
            return Answer(
                responseCode: found.responseCode, authoritative: true, answers: [alias] + found.answers,
                authority: found.authority, additional: found.additional, recursionAvailable: found.recursionAvailable)
        }
        return nil
    }
}

extension PinnedPipeline {
    func autopath(
        to query: UnsafeRawBufferPointer, _ read: ReadQuery, client: IPAddress, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer
    ) -> DNSResponse? {
        guard autopaths, let view = read.view else { return nil }
        let question = view.question(in: query)
        guard let answer = AutopathAnswerer(catalog: published.catalog, forwarder: forwarder).answer(to: question, client: client) else { return nil }
        if let length = view.write(answer, to: question, query: query, scratch: &thread.scratch, into: output) {
            return DNSResponse(length: length, path: .autopath)
        }
        // Not written after all: the chain's own response again, over whatever was begun.
        return respond(to: query, read, over: transport, into: output)
    }
}

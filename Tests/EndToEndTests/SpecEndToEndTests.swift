import ClusterZones
import DNSWire
import SpecSupport
import Testing

/// The spec table against the built binary serving the spec fixture's manifests, asked with dig
/// over UDP and TCP in two spellings: what a user pointing dig at the server sees.
@Suite(.serialized) struct SpecEndToEndTests {
    @Test(arguments: [PodMode.disabled, .insecure, .verified])
    func digSeesWhatTheSpecSays(podMode: PodMode) throws {
        let server = try ClusterDNSServer(arguments: ["--registry", SpecFixture.manifestDirectory, "--pods", podMode.rawValue])
        defer { server.stop() }
        var asked = 0
        // dig shows a zone transfer as a stream of records, not as one answer.
        for row in specCases where row.podMode == podMode && row.type != .axfr && row.type != .ixfr {
            for (index, spelling) in [row.name, SpecFixture.otherSpelling(of: row.name)].enumerated() {
                let output = try Client.dig.query(port: server.port, spelling, row.type.description, tcp: index == 1)
                let response = SpecResponse(
                    rcode: output.status, authoritative: output.flags.contains("aa"), question: output.question,
                    answers: output.answers, authority: output.authority, additional: output.additional)
                let problems = row.mismatches(in: response, askedAs: spelling)
                #expect(problems.isEmpty, "\(row) as \(spelling): \(problems)\n\(output)")
                asked += 1
            }
        }
        #expect(asked >= (podMode == .disabled ? 100 : 6))
    }
}

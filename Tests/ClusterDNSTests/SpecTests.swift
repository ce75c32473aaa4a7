import ClusterDNS
import DNSWire
import LDNSTestSupport
import Testing

/// Runs the spec table against the zone directly, then checks each response with libldns.
@Suite struct SpecTests {
    @Test(arguments: specCases)
    func answersAsTheSpecSays(_ specCase: SpecCase) throws {
        let question = DNSQuestion(name: try DNSName(specCase.name), type: specCase.type)
        let answer = SpecFixture.catalog(podMode: specCase.podMode).answer(question)

        #expect(answer.responseCode == specCase.rcode)
        #expect(answer.answers.map(\.description).map(normalizeWhitespace).sorted() == specCase.answers.map(normalizeWhitespace).sorted())
        if let additional = specCase.additional {
            #expect(answer.additional.map(\.description).map(normalizeWhitespace).sorted() == additional.map(normalizeWhitespace).sorted())
        }
        if specCase.expectsSOAInAuthority {
            #expect(answer.authority.count == 1)
            #expect(answer.authority.first?.type == .soa)
        } else {
            #expect(answer.authority.isEmpty)
        }
        #expect(answer.authoritative == (specCase.rcode != .refused))
        // Owner names echo the client's bytes.
        for record in answer.answers where record.name.equalsIgnoringCase(question.name) {
            #expect(record.name == question.name)
        }

        try expectLDNSAgrees(question: question, answer: answer)
    }

    /// Encodes the answer as the server would and checks that libldns parses it to the same records.
    private func expectLDNSAgrees(question: DNSQuestion, answer: Answer) throws {
        var header = DNSHeader(id: 0xbeef)
        header.isResponse = true
        header.isAuthoritative = answer.authoritative
        header.responseCode = answer.responseCode
        let message = DNSMessage(header: header, questions: [question], answers: answer.answers,
                                 authority: answer.authority, additional: answer.additional, edns: EDNS())
        let wire = DNSMessageEncoder.encode(message)
        let parsed = try LDNSPacket(wire: wire)
        #expect(parsed.id == 0xbeef)
        #expect(parsed.responseCode == answer.responseCode.rawValue)
        #expect(parsed.isAuthoritative == answer.authoritative)
        #expect(parsed.answers == answer.answers.map { normalizeWhitespace($0.description) })
        #expect(parsed.authority == answer.authority.map { normalizeWhitespace($0.description) })
        #expect(parsed.additional == answer.additional.map { normalizeWhitespace($0.description) })
        #expect(parsed.ednsUDPSize == 1232)
        // And our own decoder reads back exactly what was encoded.
        let decoded = try DNSMessageDecoder.decode(bytes: wire)
        #expect(decoded.answers == answer.answers)
    }
}

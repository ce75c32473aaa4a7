import ClusterZones
import DNSWire
import LDNSTestSupport
import SpecSupport
import Testing

/// Runs the spec table against the catalog directly, in the row's spelling and another, then
/// checks each answer's encoding with libldns.
@Suite struct SpecTests {
    @Test(arguments: specCases)
    func answersAsTheSpecSays(_ specCase: SpecCase) throws {
        let catalog = SpecFixture.catalog(podMode: specCase.podMode)
        for spelling in [specCase.name, SpecFixture.otherSpelling(of: specCase.name)] {
            let question = DNSQuestion(name: try DNSName(spelling), type: specCase.type)
            let answer = catalog.answer(question)
            // The zones answer in lower case whatever the spelling; the encoder restores the client's.
            let lowercased = question.name.lowercased()
            let problems = specCase.mismatches(in: SpecResponse(answer, question: lowercased), askedAs: String(lowercased.description.dropLast()))
            #expect(problems.isEmpty, "\(spelling): \(problems)")
            try expectLDNSAgrees(question: question, answer: answer)
        }
    }

    /// Encodes the answer as the server would and checks that libldns parses it to the same records.
    private func expectLDNSAgrees(question: DNSQuestion, answer: Answer) throws {
        let header = DNSHeader.response(to: DNSHeader(id: 0xbeef), responseCode: answer.responseCode, authoritative: answer.authoritative)
        let message = DNSMessage(header: header, questions: [question], answers: answer.answers,
                                 authority: answer.authority, additional: answer.additional, edns: OPTRecord.ours)
        let wire = DNSMessageEncoder.encode(message)
        let parsed = try LDNSPacket(wire: wire)
        let decoded = try DNSMessageDecoder.decode(bytes: wire)
        #expect(parsed.id == 0xbeef)
        #expect(parsed.responseCode == answer.responseCode.rawValue)
        #expect(parsed.isAuthoritative == answer.authoritative)
        // Both decoders read back what the encoder wrote: owners equal to the question in the
        // question's spelling (a pointer to it), every other name as the zone gave it.
        #expect(parsed.answers == decoded.answers.map { normalizeWhitespace($0.description) })
        #expect(parsed.authority == decoded.authority.map { normalizeWhitespace($0.description) })
        #expect(parsed.additional == decoded.additional.map { normalizeWhitespace($0.description) })
        #expect(parsed.ednsUDPSize == 1232)
        let respelled = answer.answers.map { record -> ResourceRecord in
            var record = record
            if record.name.equalsIgnoringCase(question.name) { record.name = question.name }
            return record
        }
        #expect(decoded.answers == respelled)
    }
}

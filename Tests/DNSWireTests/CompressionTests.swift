import DNSWire
import LDNSTestSupport
import Testing

@Suite("Name compression")
struct CompressionTests {
    /// A headless-service style answer: many owner and data names under one suffix.
    static func manyNamesResponse() -> DNSMessage {
        let service = name("web.shop.svc.cluster.local")
        var answers: [ResourceRecord] = []
        var additional: [ResourceRecord] = []
        for index in 0..<20 {
            let pod = try! service.prepending("pod-\(index)")
            answers.append(ResourceRecord(name: name("_http._tcp.web.shop.svc.cluster.local"), ttl: 30, data: .srv(priority: 0, weight: 5, port: 80, target: pod)))
            additional.append(ResourceRecord(name: pod, ttl: 30, data: .a(ipv4(10, 1, 0, UInt32(index)))))
        }
        return DNSMessage(
            header: responseHeader(),
            questions: [DNSQuestion(name: name("_http._tcp.web.shop.svc.cluster.local"), type: .srv)],
            answers: answers,
            authority: [ResourceRecord(name: service, ttl: 30, data: .ns(name("ns.dns.cluster.local")))],
            additional: additional)
    }

    @Test("a response whose names share suffixes is smaller than uncompressed and decodes to the same names")
    func compressesSharedSuffixes() throws {
        let message = Self.manyNamesResponse()
        let bytes = DNSMessageEncoder.encode(message)
        #expect(bytes.count < uncompressedSize(message))
        // Every repeated owner costs only a pointer: the 20 SRV owners after the question are 2 bytes each.
        #expect(uncompressedSize(message) - bytes.count >= 20 * (name("_http._tcp.web.shop.svc.cluster.local").wire.count - 2))
        let decoded = try DNSMessageDecoder.decode(bytes: bytes)
        #expect(decoded == message)
    }

    @Test("names in NS, CNAME, PTR and SOA data are compressed against earlier names, and a name equal to the question points at it")
    func compressesNamesInData() throws {
        let question = name("web.shop.svc.cluster.local")
        let owner = name("alias.shop.svc.cluster.local")
        let target = name("db.shop.svc.cluster.local")
        let records: [RecordData] = [
            .ns(target), .cname(target), .ptr(target),
            .soa(StartOfAuthority(primaryNameServer: target, responsibleMailbox: question, serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5)),
        ]
        for data in records {
            let message = DNSMessage(
                header: responseHeader(), questions: [DNSQuestion(name: question, type: .a)],
                answers: [ResourceRecord(name: owner, ttl: 1, data: data)])
            let bytes = DNSMessageEncoder.encode(message)
            // The owner is written in full: it shares only a suffix with the question, which is no
            // target. Each data name is "db" and a pointer to the owner's "shop.svc.cluster.local";
            // the SOA's mailbox equals the question: one pointer to it.
            let ownerSize = owner.wire.count
            let expectedData = data.type == .soa ? (1 + 2 + 2) + 2 + 20 : 1 + 2 + 2
            #expect(bytes.count == 12 + question.wire.count + 4 + ownerSize + 10 + expectedData, "\(data.type)")
            #expect(try DNSMessageDecoder.decode(bytes: bytes) == message)
        }
    }

    @Test("an SRV target is written in full, never as a compression pointer (RFC 2782)")
    func srvTargetIsNeverCompressed() throws {
        let target = name("web.shop.svc.cluster.local")
        let message = DNSMessage(
            header: responseHeader(),
            questions: [DNSQuestion(name: name("_http._tcp.web.shop.svc.cluster.local"), type: .srv)],
            answers: [ResourceRecord(name: name("_http._tcp.web.shop.svc.cluster.local"), ttl: 30, data: .srv(priority: 1, weight: 2, port: 443, target: target))])
        let bytes = DNSMessageEncoder.encode(message)
        // The only record is last: its RDATA is priority, weight, port, then the target's full wire form.
        let rdata = Array(bytes.suffix(6 + target.wire.count))
        #expect(Array(rdata.prefix(6)) == [0, 1, 0, 2, 0x01, 0xbb])
        #expect(Array(rdata.suffix(target.wire.count)) == target.wire)
        let rdlengthAt = bytes.count - rdata.count - 2
        #expect(Int(bytes[rdlengthAt]) << 8 | Int(bytes[rdlengthAt + 1]) == 6 + target.wire.count)
        // The owner name was compressed (one pointer to the question), so compression was on.
        #expect(bytes.count == 12 + (message.questions[0].name.wire.count + 4) + (2 + 10) + rdata.count)
        #expect(try DNSMessageDecoder.decode(bytes: bytes) == message)
    }

    @Test("a target written in full in one SRV record stays in full in the next one too")
    func everySRVTargetIsFull() throws {
        let message = Self.manyNamesResponse()
        let bytes = DNSMessageEncoder.encode(message)
        // Each pod name appears verbatim at least once (as the SRV target), never shortened by a pointer.
        for record in message.answers {
            guard case .srv(_, _, _, let target) = record.data else { continue }
            #expect(bytes.firstRange(of: target.wire) != nil, "\(target)")
        }
    }

    @Test("a name equal to the question in any case takes the question's spelling; other names keep theirs, sharing only identical bytes")
    func questionSpellingAndCase() throws {
        let question = name("KuBe.cluster.local")
        let lower = name("kube.cluster.local")
        let upper = name("KUBE.CLUSTER.LOCAL")
        let other = name("web.cluster.local")
        let shouting = name("WEB.CLUSTER.LOCAL")
        let message = DNSMessage(
            header: responseHeader(),
            questions: [DNSQuestion(name: question, type: .cname)],
            answers: [
                ResourceRecord(name: lower, ttl: 5, data: .cname(other)),
                ResourceRecord(name: upper, ttl: 5, data: .cname(shouting)),
                ResourceRecord(name: other, ttl: 5, data: .a(ipv4(10, 0, 0, 1))),
            ])
        let bytes = DNSMessageEncoder.encode(message)
        let decoded = try DNSMessageDecoder.decode(bytes: bytes)
        #expect(decoded.questions[0].name.wire == question.wire)
        // Both spellings of the question's name are a pointer to it (offset 12): the client's spelling.
        #expect(decoded.answers.map(\.name.wire) == [question.wire, question.wire, other.wire])
        #expect(bytes.firstRange(of: [0xc0, 12]) != nil)
        #expect(decoded.answers[0].data == .cname(other))
        #expect(decoded.answers[1].data == .cname(shouting))
        // Nothing points inside the question: "web" is followed by "cluster.local" written out.
        #expect(bytes.firstRange(of: [3] + Array("web".utf8) + [7] + Array("cluster".utf8)) != nil)
        // The upper-case name shares nothing with the lower-case one, so "CLUSTER" is written out.
        #expect(bytes.firstRange(of: [7] + Array("CLUSTER".utf8)) != nil)
    }

    @Test("names written beyond the 14-bit pointer range are never pointed at, and the message still decodes")
    func namesBeyondPointerRange() throws {
        let zone = name("headless.shop.svc.cluster.local")
        let message = DNSMessage(
            header: responseHeader(),
            questions: [DNSQuestion(name: zone, type: .a)],
            answers: (0..<600).map { index in
                ResourceRecord(name: try! zone.prepending("pod-\(index)-\(String(repeating: "x", count: 20))"), ttl: 30, data: .cname(try! zone.prepending("pod-\(index)")))
            })
        let bytes = DNSMessageEncoder.encode(message)
        #expect(bytes.count > 0x3fff)
        // Every pointer the encoder wrote targets an offset a pointer can express, backwards.
        #expect(try DNSMessageDecoder.decode(bytes: bytes) == message)
        let parsed = try LDNSPacket(wire: bytes)
        #expect(parsed.answers.count == 600)
        #expect(parsed.answers.last == normalizeWhitespace(message.answers.last!.description))
    }

    @Test("pointers produced by the encoder always point backwards at a name already written")
    func pointersPointBackwards() throws {
        let bytes = DNSMessageEncoder.encode(Self.manyNamesResponse())
        // The decoder rejects anything else, so a clean decode of a heavily compressed message is the check.
        let decoded = try DNSMessageDecoder.decode(bytes: bytes)
        #expect(decoded.additional.count == 20)
        #expect(bytes.count < uncompressedSize(Self.manyNamesResponse()))
    }
}

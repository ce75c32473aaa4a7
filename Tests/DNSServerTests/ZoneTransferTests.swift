import ClusterZones
import DNSServer
import DNSWire
import NIOCore
@testable import ServiceRegistry
import SpecSupport
import Testing

/// Zone transfers without sockets: how a response is split into messages, who may transfer, what
/// IXFR answers, and that the change history turns one version of a zone into the next exactly.
@Suite struct ZoneTransferTests {
    static let localhost = IPAddress("127.0.0.1")!
    static let origin = try! DNSName("cluster.local")

    static func transfers(allowing networks: [String] = ["127.0.0.0/8"], limits: TransferHistoryLimits = .init()) -> ZoneTransfers {
        ZoneTransfers(allowed: networks.map { IPNetwork($0)! }, history: TransferHistory(limits: limits))
    }

    /// The query as a secondary sends it; IXFR carries its serial in the authority section.
    static func transferQuery(_ zone: String, _ type: RecordType, serial: UInt32? = nil, id: UInt16 = 0x5151) throws -> ByteBuffer {
        var message = DNSMessage.query(id: id, name: try DNSName(zone), type: type, recursionDesired: false)
        if let serial {
            let soa = StartOfAuthority(
                primaryNameServer: try DNSName("ns.example"), responsibleMailbox: try DNSName("h.example"),
                serial: serial, refresh: 1, retry: 1, expire: 1, minimum: 1)
            message.authority = [ResourceRecord(name: try DNSName(zone), ttl: 0, data: .soa(soa))]
        }
        return ByteBuffer(bytes: DNSMessageEncoder.encode(message))
    }

    /// Every message of `response`, decoded.
    static func messages(_ response: TransferMessages?) throws -> [DNSMessage] {
        guard var response else { return [] }
        var messages: [DNSMessage] = []
        while let message = response.next() {
            #expect(message.readableBytes <= 65535)
            messages.append(try DNSMessageDecoder.decode(message))
        }
        return messages
    }

    static func pipeline(_ catalog: Catalog = SpecFixture.catalog(podMode: .verified), transfers: ZoneTransfers? = Self.transfers()) -> QueryPipeline {
        QueryPipeline(catalog: catalog, cachingResponses: false, transfers: transfers)
    }

    // MARK: - Messages

    /// Before the registry is listed its zones cannot be transferred (SERVFAIL, as their
    /// queries), but a static zone, read whole before serving began, can.
    @Test func whileTheRegistryIsAwaitedOnlyStaticZonesTransfer() throws {
        let text = "$ORIGIN example.internal.\n@ 300 IN SOA ns1 hostmaster 7 3600 600 86400 60\n@ 300 IN NS ns1\nns1 300 IN A 192.0.2.1\n"
        let zone = try StaticZone.parse(text: text, origin: try DNSName("example.internal"), file: "example.internal.zone")
        let catalog = Catalog(
            snapshot: .empty, configuration: ZoneConfiguration(domain: Self.origin), awaitingRegistry: true, staticZones: [zone])
        let pipeline = Self.pipeline(catalog)
        let cluster = try Self.messages(pipeline.transferResponse(to: try Self.transferQuery("cluster.local", .axfr), from: Self.localhost))
        #expect(cluster.map(\.header.responseCode) == [.serverFailure])
        let exampleZone = try Self.messages(pipeline.transferResponse(to: try Self.transferQuery("example.internal", .axfr), from: Self.localhost))
        #expect(exampleZone.first?.header.responseCode == .noError)
        #expect(exampleZone.flatMap(\.answers).map(\.type) == [.soa, .ns, .a, .soa])
    }

    @Test func aResponseIsSplitIntoMessagesThatEachFitAndCarryTheQueryIDAndQuestion() throws {
        let header = DNSHeader.response(to: DNSHeader(id: 0x1234), responseCode: .noError, authoritative: true)
        let question = DNSQuestion(name: Self.origin, type: .axfr)
        let records = try (0..<2000).map { index in
            ResourceRecord(name: try DNSName("svc\(index).ns\(index % 7).svc.cluster.local"), ttl: 5, data: .a(0x0a60_0000 + UInt32(index)))
        }
        let closing = ResourceRecord(name: Self.origin, ttl: 5, data: .txt([Array("end".utf8)]))
        var messages = TransferMessages(kind: "AXFR", zone: Self.origin, header: header, question: question, records: records, closing: closing, maxSize: 4096)
        var decoded: [DNSMessage] = []
        var sizes: [Int] = []
        while let message = messages.next() {
            sizes.append(message.readableBytes)
            decoded.append(try DNSMessageDecoder.decode(message))
        }
        #expect(decoded.count > 10)
        #expect(sizes.allSatisfy { $0 <= 4096 })
        #expect(decoded.allSatisfy { $0.header.id == 0x1234 && $0.header.isAuthoritative && $0.questions == [question] })
        #expect(decoded.flatMap(\.answers) == records + [closing])
        // Names compressed within each message: far smaller than the names written out.
        let uncompressed = records.reduce(0) { $0 + $1.name.wire.count + 14 }
        #expect(sizes.reduce(0, +) < uncompressed * 6 / 10)
    }

    /// Over a real TCP connection: an AXFR and a query sent behind it in one write get the whole
    /// transfer first, then the query's answer, nothing interleaved.
    @Test func aQueryBehindATransferOnTheSameConnectionIsAnsweredAfterIt() async throws {
        let pipeline = Self.pipeline()
        try await TestListener.with(responder: pipeline) { listener in
            let tcp = try TestSocket.tcp(connectingTo: listener.localAddress)
            let axfr = Array(try Self.transferQuery("cluster.local", .axfr, id: 1).readableBytesView)
            let query = try queryBytes("kubernetes.default.svc.cluster.local", .a, id: 2)
            try tcp.sendAll(TestMessages.framed(axfr) + TestMessages.framed(query))
            var records: [ResourceRecord] = []
            while records.count < 2 || records.last?.type != .soa {
                guard case .bytes(let bytes) = tcp.receiveFrame() else {
                    Issue.record("the transfer stopped after \(records.count) records")
                    return
                }
                let message = try DNSMessageDecoder.decode(bytes: bytes)
                #expect(message.header.id == 1)
                records += message.answers
            }
            #expect(records == pipeline.catalog.clusterZone.transferRecords() + [records[0]])
            guard case .bytes(let bytes) = tcp.receiveFrame() else {
                Issue.record("no answer to the query behind the transfer")
                return
            }
            let answer = try DNSMessageDecoder.decode(bytes: bytes)
            #expect(answer.header.id == 2 && answer.answers.count == 1)
        }
    }

    // MARK: - Access and answers

    @Test func aClientOutsideEveryAllowedNetworkIsRefused() throws {
        let pipeline = Self.pipeline(transfers: Self.transfers(allowing: ["127.0.0.2/32", "fd00::/8"]))
        let refused = try Self.messages(pipeline.transferResponse(to: Self.transferQuery("cluster.local", .axfr), from: IPAddress("127.0.0.3")!))
        #expect(refused.map(\.header.responseCode) == [.refused])
        #expect(refused.first?.questions.first?.type == .axfr)
        let allowed = try Self.messages(pipeline.transferResponse(to: Self.transferQuery("cluster.local", .axfr), from: IPAddress("127.0.0.2")!))
        #expect(allowed.first?.header.responseCode == .noError)
        let mapped = try Self.messages(pipeline.transferResponse(to: Self.transferQuery("cluster.local", .axfr), from: IPAddress("::ffff:127.0.0.2")!))
        #expect(mapped.first?.header.responseCode == .noError)
    }

    @Test func everyTransferIsRefusedWithoutTransferConfiguration() throws {
        let pipeline = Self.pipeline(transfers: nil)
        for type in [RecordType.axfr, .ixfr] {
            let response = try Self.messages(pipeline.transferResponse(to: Self.transferQuery("cluster.local", type, serial: type == .ixfr ? 1 : nil), from: Self.localhost))
            #expect(response.map(\.header.responseCode) == [.refused])
        }
    }

    @Test func aTransferOfANameThatIsNoApexIsNotAuthoritative() throws {
        let pipeline = Self.pipeline()
        let response = try Self.messages(pipeline.transferResponse(to: Self.transferQuery("svc.cluster.local", .axfr), from: Self.localhost))
        #expect(response.map(\.header.responseCode) == [.notAuthoritative])
    }

    @Test("AXFR of each zone sends its records framed by the SOA, as clusterdns export lists them", arguments: ["cluster.local", "in-addr.arpa", "ip6.arpa"])
    func axfrSendsTheZoneFramedByItsSOA(zone: String) throws {
        let catalog = SpecFixture.catalog(podMode: .verified)
        let messages = try Self.messages(Self.pipeline(catalog).transferResponse(to: Self.transferQuery(zone.uppercased(), .axfr), from: Self.localhost))
        let records = messages.flatMap(\.answers)
        let exported = try #require(try ZoneExport.zones(of: catalog).first { $0.origin == (try DNSName(zone)) })
        #expect(records == exported.records + [exported.records[0]])
        #expect(records.first?.type == .soa && records.last?.type == .soa)
        #expect(messages.allSatisfy { $0.header.isAuthoritative && $0.header.responseCode == .noError })
    }

    @Test func ixfrFromTheCurrentSerialGetsTheSOAAlone() throws {
        let catalog = SpecFixture.catalog(podMode: .verified)
        let serial = catalog.snapshot.serial
        for theirs in [serial, serial &+ 5] {
            let messages = try Self.messages(Self.pipeline(catalog).transferResponse(to: Self.transferQuery("cluster.local", .ixfr, serial: theirs), from: Self.localhost))
            #expect(messages.flatMap(\.answers) == [catalog.soaRecord(ofZone: Self.origin, serial: serial)])
        }
    }

    @Test func ixfrFromASerialOutsideTheHistoryGetsTheWholeZone() throws {
        let catalog = SpecFixture.catalog(podMode: .verified)
        let messages = try Self.messages(Self.pipeline(catalog).transferResponse(to: Self.transferQuery("cluster.local", .ixfr, serial: catalog.snapshot.serial &- 1), from: Self.localhost))
        let records = messages.flatMap(\.answers)
        #expect(records == catalog.clusterZone.transferRecords() + [records[0]])
    }

    @Test func axfrAndIXFROverUDPAreNotImplementedAndSoIsAnIncomingNotify() throws {
        let pipeline = Self.pipeline()
        for type in [RecordType.axfr, .ixfr] {
            let query = try Self.transferQuery("cluster.local", type, serial: type == .ixfr ? 1 : nil)
            let response = try #require(try pipeline.decodedAnswer(Array(query.readableBytesView)))
            #expect(response.header.responseCode == .notImplemented, "\(type)")
        }
        var notify = DNSMessage.query(id: 7, name: Self.origin, type: .soa, recursionDesired: false)
        notify.header.opcode = .notify
        notify.header.isAuthoritative = true
        let response = try #require(try pipeline.decodedAnswer(DNSMessageEncoder.encode(notify)))
        #expect(response.header.responseCode == .notImplemented)
        #expect(response.header.opcode == .notify)
    }

    // MARK: - History

    /// Applies random registry changes to a pipeline keeping history; after each, an IXFR from
    /// every earlier serial still held, applied to the zone as it was at that serial, gives the
    /// zone built from scratch from the same objects.
    @Test("IXFR from any serial in the history turns that version into the current zone", arguments: [11, 12, 13] as [UInt64])
    func incrementalTransferEqualsFromScratch(seed: UInt64) throws {
        var universe = IncrementalRegistryModelTests.Universe(random: SplitMix(seed: seed))
        var model: [RegistryObjectKey: RegistryObject] = [:]
        var store = RegistryStore()
        _ = store.apply([.replaceAll([])], serial: 100)
        let configuration = IncrementalRegistryModelTests.configuration
        let pipeline = Self.pipeline(Catalog(snapshot: store.snapshot, configuration: configuration))
        var zonesBySerial: [UInt32: [DNSName: [ResourceRecord]]] = [:]
        func zones(_ catalog: Catalog) -> [DNSName: [ResourceRecord]] {
            Dictionary(uniqueKeysWithValues: ([catalog.clusterZone as any Zone] + catalog.reverseZones).map { ($0.origin, $0.transferRecords()) })
        }
        zonesBySerial[store.snapshot.serial] = zones(pipeline.catalog)
        for step in 1...40 {
            let events = universe.events(applyingTo: &model)
            guard let update = store.apply(events, serial: store.snapshot.serial + 1) else { continue }
            pipeline.apply(update)
            var fresh = RegistryStore()
            _ = fresh.apply([.replaceAll(model.values.sorted { $0.key < $1.key })], serial: update.snapshot.serial)
            let expected = zones(Catalog(snapshot: fresh.snapshot, configuration: configuration))
            #expect(zones(pipeline.catalog) == expected, "seed \(seed) step \(step): the patched catalog lists another zone")
            zonesBySerial[update.snapshot.serial] = expected
            for (serial, old) in zonesBySerial where serial != update.snapshot.serial {
                for (origin, oldRecords) in old {
                    let messages = try Self.messages(pipeline.transferResponse(to: Self.transferQuery(origin.description, .ixfr, serial: serial), from: Self.localhost))
                    let stream = messages.flatMap(\.answers)
                    let updated = try Self.applyIXFR(stream, to: oldRecords)
                    #expect(Set(updated) == Set(expected[origin]!), "seed \(seed) step \(step): IXFR of \(origin) from \(serial)")
                    #expect(updated.count == expected[origin]!.count)
                }
            }
        }
        #expect(pipeline.transfers!.history.size(of: Self.origin).versions > 10)
    }

    /// What a secondary does with an IXFR stream (or an AXFR in its place): the zone it then holds.
    static func applyIXFR(_ stream: [ResourceRecord], to zone: [ResourceRecord]) throws -> [ResourceRecord] {
        try #require(stream.count >= 2 && stream.first?.type == .soa && stream.last == stream.first)
        guard stream[1].type == .soa else { return Array(stream.dropLast()) }  // an AXFR
        var records = zone.filter { $0.type != .soa }
        // Each version is `SOA old, deleted..., SOA new, added...`.
        var deleting = true
        var framesSeen = 0
        for record in stream.dropFirst().dropLast() {
            if record.type == .soa {
                deleting = framesSeen % 2 == 0
                framesSeen += 1
                continue
            }
            if deleting {
                let index = try #require(records.firstIndex(of: record), "IXFR deletes \(record), which the zone does not hold")
                records.remove(at: index)
            } else {
                records.append(record)
            }
        }
        return [stream[0]] + records
    }

    @Test func theHistoryKeepsNoMoreThanItsLimits() throws {
        let transfers = Self.transfers(limits: TransferHistoryLimits(versions: 3, records: 40))
        var store = RegistryStore()
        _ = store.apply([.replaceAll([])], serial: 100)
        let pipeline = Self.pipeline(Catalog(snapshot: store.snapshot, configuration: IncrementalRegistryModelTests.configuration), transfers: transfers)
        let first = store.snapshot.serial
        for index in 0..<6 {
            let service = DecodedFile(ManifestFile(path: "s.yaml", contents: .success(
                "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index), namespace: ns}\nspec: {clusterIP: 10.96.0.\(index + 1), ports: [{name: http, port: 80}]}\n"))).objects[0]
            let update = store.apply([.upsert(service)], serial: store.snapshot.serial + 1)
            pipeline.apply(try #require(update))
            let size = transfers.history.size(of: Self.origin)
            #expect(size.versions <= 3 && size.records <= 40)
        }
        // The first versions are gone: an IXFR from the first serial gets the whole zone.
        let messages = try Self.messages(pipeline.transferResponse(to: Self.transferQuery("cluster.local", .ixfr, serial: first), from: Self.localhost))
        #expect(messages.flatMap(\.answers)[1].type == .ns)
        let recent = try Self.messages(pipeline.transferResponse(to: Self.transferQuery("cluster.local", .ixfr, serial: store.snapshot.serial - 1), from: Self.localhost))
        #expect(recent.flatMap(\.answers)[1].type == .soa)
    }

    @Test func aCatalogBuiltAnewForgetsTheHistory() throws {
        let transfers = Self.transfers()
        var store = RegistryStore()
        _ = store.apply([.replaceAll([])], serial: 100)
        let configuration = IncrementalRegistryModelTests.configuration
        let pipeline = Self.pipeline(Catalog(snapshot: store.snapshot, configuration: configuration), transfers: transfers)
        let service = DecodedFile(ManifestFile(path: "s.yaml", contents: .success(
            "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns}\nspec: {clusterIP: 10.96.0.9, ports: [{name: http, port: 80}]}\n"))).objects[0]
        let update = store.apply([.upsert(service)], serial: 101)
        pipeline.apply(try #require(update))
        #expect(transfers.history.size(of: Self.origin).versions == 1)
        pipeline.reconfigure(configuration)
        #expect(transfers.history.size(of: Self.origin).versions == 0)
    }
}

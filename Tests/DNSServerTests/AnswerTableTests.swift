@testable import ClusterZones
import DNSServer
import DNSWire
import Foundation
import NIOCore
@testable import ServiceRegistry
import Testing

/// The answer table is the zones' answers as bytes: for every name the catalog holds it must say
/// exactly what the general path (`Catalog.answer`, encode) says, and never outlive its catalog.
@Suite struct AnswerTableTests {
    static let allocator = ByteBufferAllocator()
    static let exampleCluster = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("zones").path

    static func exampleCatalog(podMode: PodMode) throws -> Catalog {
        let loaded = ManifestLoader.load(paths: [exampleCluster])
        try #require(loaded.isValid, "\(loaded.report)")
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), podMode: podMode, nameServerAddresses: [IPAddress("127.0.0.1")!])
        return Catalog(snapshot: loaded.snapshot, configuration: configuration)
    }

    /// Every name the catalog's zones hold.
    static func heldNames(_ catalog: Catalog) -> [DNSName] {
        var names: [DNSName] = []
        catalog.forEachClusterZoneName { name, _ in names.append(name) }
        for zone in catalog.reverseZones { catalog.forEachName(in: zone) { name, _ in names.append(name) } }
        return names
    }

    static func query(_ name: DNSName, _ type: RecordType, id: UInt16 = 0x2b2b, edns: EDNS? = nil, recursionDesired: Bool = true) -> [UInt8] {
        DNSMessageEncoder.encode(DNSMessage.query(id: id, name: name, type: type, recursionDesired: recursionDesired, edns: edns))
    }

    /// The response the answer table writes, or nil when another path answered.
    static func copied(_ pipeline: QueryPipeline, _ query: [UInt8], over transport: DNSTransport) -> [UInt8]? {
        guard let (bytes, path) = pipeline.answer(query, over: transport), path == .answerTable else { return nil }
        return bytes
    }

    static func general(_ pipeline: QueryPipeline, _ query: [UInt8], over transport: DNSTransport) -> [UInt8]? {
        pipeline.answer(query, over: transport).map(\.bytes)
    }

    /// Asks each of `types` at every name `pipeline`'s catalog holds: every answer its (patched)
    /// table copies must be the one `fresh` gives. Returns how many the table copied.
    static func expectCopiedAnswersAsFresh(
        _ pipeline: QueryPipeline, _ fresh: QueryPipeline, types: [RecordType], over transport: DNSTransport,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> Int {
        var copies = 0
        for name in heldNames(pipeline.catalog) {
            for type in types {
                let asked = Self.query(name, type)
                guard let actual = copied(pipeline, asked, over: transport) else { continue }
                copies += 1
                #expect(actual == general(fresh, asked, over: transport), "\(name) \(type)", sourceLocation: sourceLocation)
            }
        }
        return copies
    }

    static let askedTypes: [RecordType] = [.a, .ns, .cname, .soa, .ptr, .hinfo, .mx, .txt, .aaaa, .srv, RecordType(10), RecordType(257)]

    /// Service `s<index>` in `shop`, port 80, its ClusterIP the `address`-th after 10.96.0.0
    /// (`index`'s when not given), 250 a /24.
    static func service(_ index: Int, address: Int? = nil) -> RegistryObject {
        let address = address ?? index
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index), namespace: shop}\nspec: {clusterIP: 10.96.\(address / 250).\(address % 250 + 1), ports: [{port: 80}]}\n"
        return DecodedFile(ManifestFile(path: "s.yaml", contents: .success(text))).objects[0]
    }

    @Test(arguments: [PodMode.disabled, .verified, .insecure])
    func everyHeldNameIsCopiedAsTheGeneralPathAnswersIt(podMode: PodMode) throws {
        let catalog = try Self.exampleCatalog(podMode: podMode)
        let compiled = QueryPipeline(catalog: catalog, cachingResponses: false)
        let compiledCount = compiled.compileAnswers()?.names ?? 0
        let general = QueryPipeline(catalog: catalog, cachingResponses: false)
        let names = Self.heldNames(catalog)
        #expect(compiledCount > 0 && compiledCount <= names.count)

        var copies = 0
        var cnameNames = 0
        for name in names {
            let isCNAME = catalog.answer(DNSQuestion(name: name, type: .cname)).answers.contains { $0.type == .cname }
            if isCNAME { cnameNames += 1 }
            for type in Self.askedTypes {
                for edns in [nil, EDNS(udpPayloadSize: 512), EDNS(udpPayloadSize: 4096)] {
                    for transport in [DNSTransport.udp, .tcp] {
                        let query = Self.query(name, type, edns: edns)
                        let expected = Self.general(general, query, over: transport)
                        let actual = Self.copied(compiled, query, over: transport)
                        if isCNAME {
                            #expect(actual == nil, "\(name) \(type): a CNAME is chased per question, never copied")
                            continue
                        }
                        // Small answers always fit, so every held name is copied for every type.
                        #expect(actual != nil, "\(name) \(type) edns=\(edns.map { "\($0.udpPayloadSize)" } ?? "none") \(transport)")
                        guard let actual else { continue }
                        copies += 1
                        #expect(actual == expected, "\(name) \(type) edns=\(edns.map { "\($0.udpPayloadSize)" } ?? "none") \(transport)")
                    }
                }
            }
        }
        #expect(copies > 0)
        #expect(cnameNames > 0, "the example cluster has ExternalName services")
    }

    @Test func aRegistryOverTheNamesLimitIsAnsweredAsTheTableWouldWithoutOne() throws {
        let catalog = try Self.exampleCatalog(podMode: .verified)
        let compiled = QueryPipeline(catalog: catalog, cachingResponses: false)
        #expect(compiled.compileAnswers() != nil)
        let uncompiled = QueryPipeline(catalog: catalog, cachingResponses: false, compiledNamesLimit: 0)
        #expect(uncompiled.compileAnswers() == nil)
        for name in Self.heldNames(catalog) {
            for type in Self.askedTypes {
                let query = Self.query(name, type)
                #expect(Self.copied(uncompiled, query, over: .udp) == nil, "\(name) \(type) answered from a table")
                #expect(Self.general(uncompiled, query, over: .udp) == Self.general(compiled, query, over: .udp), "\(name) \(type)")
            }
        }
    }

    /// A server told to shut down while it compiles (seconds at 50k Services) abandons the table:
    /// nothing half-built is published, and the zones go on answering until it stops.
    @Test func aCompileAbandonedForShutdownPublishesNoTableAndTheZonesStillAnswer() throws {
        var store = RegistryStore()
        // 3000 Services, some 9000 names: asked eight times in a whole compile.
        _ = store.apply([.replaceAll((0..<3000).map { Self.service($0) })], serial: 1)
        let catalog = Catalog(snapshot: store.snapshot, configuration: ZoneConfiguration(domain: try DNSName("cluster.local")))
        var asked = 0
        #expect(AnswerTable(catalog: catalog, stopping: { asked += 1; return true }) == nil)
        #expect(asked == 1, "asked after 1024 names, and no more once stopped")
        #expect(AnswerTable(catalog: catalog, stopping: { false })?.nameCount == AnswerTable(catalog: catalog).nameCount)

        let pipeline = QueryPipeline(catalog: catalog, cachingResponses: false)
        pipeline.stopCompiling()
        #expect(pipeline.compileAnswers() == nil)
        #expect(pipeline.stoppedCompiling)
        let query = Self.query(try DNSName("s7.shop.svc.cluster.local"), .a)
        #expect(Self.copied(pipeline, query, over: .udp) == nil)
        #expect(Self.general(pipeline, query, over: .udp) != nil)
        // An update does not compile the table whole either.
        let update = store.apply([.upsert(Self.service(3000))], serial: 2)
        try pipeline.apply(#require(update))
        #expect(Self.copied(pipeline, query, over: .udp) == nil)
    }

    @Test func aTableIsLetGoWhenTheRegistryOutgrowsTheLimitAndCompiledWhenWellBelowIt() throws {
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), nameServerAddresses: [IPAddress("127.0.0.1")!])
        var store = RegistryStore()
        _ = store.apply([.replaceAll((0..<10).map { Self.service($0) })], serial: 1)
        // 10 Services: about 10 × 3 names and 10 addresses, 40 names, under a limit of 50.
        let pipeline = QueryPipeline(catalog: Catalog(snapshot: store.snapshot, configuration: configuration), cachingResponses: false, compiledNamesLimit: 50)
        #expect(pipeline.compileAnswers() != nil)
        let asked = Self.query(try DNSName("s3.shop.svc.cluster.local"), .a)
        #expect(Self.copied(pipeline, asked, over: .udp) != nil)
        let steps: [(events: [RegistryEvent], compiled: Bool)] = [
            ((10..<15).map { .upsert(Self.service($0)) }, false),  // 60 names: over the limit
            ([.delete(Self.service(14).key)], false),  // 56: still over
            ((10..<14).map { .delete(Self.service($0).key) }, true),  // 40: a tenth below it
        ]
        for (serial, step) in steps.enumerated() {
            let update = store.apply(step.events, serial: UInt32(serial + 2))
            try pipeline.apply(#require(update))
            #expect((Self.copied(pipeline, asked, over: .udp) != nil) == step.compiled, "step \(serial)")
            #expect(Self.general(pipeline, asked, over: .udp) != nil)
        }
    }

    /// A whole compile writes every entry into one block its shards share; a patched shard moves
    /// out of it, and once most of the block is dead the shards left move out too (patches copy
    /// more shards than their names touch). Through all of it, every name answers as the general
    /// path of a pipeline built from scratch.
    @Test func patchesMoveTheShardsOutOfTheCompilesBlockAndAnswerAsAFreshTable() throws {
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), nameServerAddresses: [IPAddress("127.0.0.1")!])
        var store = RegistryStore()
        _ = store.apply([.replaceAll((0..<400).map { Self.service($0) })], serial: 1)
        let pipeline = QueryPipeline(catalog: Catalog(snapshot: store.snapshot, configuration: configuration), cachingResponses: false)
        #expect(pipeline.compileAnswers() != nil)
        var movingTheRest = 0
        for index in 0..<400 {
            // A new ClusterIP: the Service's A answer and two reverse names change.
            let update = store.apply([.upsert(Self.service(index, address: 1000 + index))], serial: UInt32(index + 2))
            let patch = pipeline.apply(try #require(update))
            if patch.shardsCopied > patch.names { movingTheRest += 1 }
        }
        #expect(movingTheRest > 0, "the shards left in the block were moved out")
        let fresh = QueryPipeline(catalog: Catalog(snapshot: store.snapshot, configuration: configuration), cachingResponses: false)
        let copies = Self.expectCopiedAnswersAsFresh(pipeline, fresh, types: [.a, .aaaa, .srv, .ptr, .txt], over: .udp)
        #expect(copies >= 400 * 5, "every Service name answered from the patched table")
    }

    /// The headless Service `db` in `shop`, named port `sql`.
    static let headlessDatabase = DecodedFile(ManifestFile(path: "db.yaml", contents: .success(
        "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\nspec: {clusterIP: None, ports: [{name: sql, port: 5432}]}\n"
    ))).objects[0]

    /// `db`'s one EndpointSlice, with `endpoints` (each a flow mapping).
    static func databaseSlice(_ endpoints: [String]) -> RegistryObject {
        let text = """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: db-a, namespace: shop, labels: {kubernetes.io/service-name: db}}
            addressType: IPv4
            endpoints: [\(endpoints.joined(separator: ", "))]
            ports: [{name: sql, port: 5432, protocol: TCP}]

            """
        return DecodedFile(ManifestFile(path: "db.yaml", contents: .success(text))).objects[0]
    }

    /// An endpoint added to a large headless Service changes the Service's own answers, its new
    /// endpoint name and that address's PTR, nothing else: the patch is as large as the change, not
    /// as the Service (it was every endpoint name and every PTR of it), and answers as a fresh table.
    @Test func anEndpointAddedToALargeHeadlessServicePatchesOnlyTheNamesItChanges() throws {
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), nameServerAddresses: [IPAddress("127.0.0.1")!])
        func slice(endpoints: Int) -> RegistryObject {
            Self.databaseSlice((0..<endpoints).map { "{addresses: [10.244.\($0 / 250).\($0 % 250 + 1)], conditions: {ready: true}}" })
        }
        let headless = Self.headlessDatabase
        var store = RegistryStore()
        _ = store.apply([.replaceAll([headless, slice(endpoints: 300)])], serial: 1)
        let pipeline = QueryPipeline(catalog: Catalog(snapshot: store.snapshot, configuration: configuration), cachingResponses: false)
        #expect(pipeline.compileAnswers() != nil)
        let update = store.apply([.upsert(slice(endpoints: 301))], serial: 2)
        let patch = pipeline.apply(try #require(update))
        // db (A, SRV), _sql._tcp.db, the new endpoint's name, its PTR, and the three zone apexes.
        #expect(patch.names <= 8, "\(patch.names) names patched for one endpoint added")
        let fresh = QueryPipeline(catalog: Catalog(snapshot: store.snapshot, configuration: configuration), cachingResponses: false)
        let copies = Self.expectCopiedAnswersAsFresh(pipeline, fresh, types: [.a, .aaaa, .srv, .ptr], over: .tcp)
        #expect(copies >= 301 * 2, "the endpoint names and PTRs answered from the patched table")
    }

    /// Two endpoints of a headless Service that share a hostname make one name with both
    /// addresses, wherever they sit among its endpoints: among the first sixteen labels, which are
    /// looked up by scanning, or past them, where a table takes over. The compiled table, a patched
    /// one and the general path all answer both.
    @Test(arguments: [(1, 5), (3, 20), (20, 28)])
    func anEndpointNameTwoAddressesShareAnswersBoth(positions: (Int, Int)) throws {
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), nameServerAddresses: [IPAddress("127.0.0.1")!])
        func slice(endpoints: Int) -> RegistryObject {
            Self.databaseSlice((0..<endpoints).map { index in
                let hostname = index == positions.0 || index == positions.1 ? ", hostname: shared" : ""
                return "{addresses: [10.244.0.\(index + 1)], conditions: {ready: true}\(hostname)}"
            })
        }
        let headless = Self.headlessDatabase
        let shared = Self.query(try DNSName("shared.db.shop.svc.cluster.local"), .a)
        func addresses(_ response: [UInt8]?) throws -> Set<UInt32> {
            let message = try DNSMessageDecoder.decode(ByteBuffer(bytes: try #require(response)))
            return Set(message.answers.compactMap { if case .a(let address) = $0.data { address } else { nil } })
        }
        let expected: Set<UInt32> = [0x0af4_0000 + UInt32(positions.0 + 1), 0x0af4_0000 + UInt32(positions.1 + 1)]
        var store = RegistryStore()
        _ = store.apply([.replaceAll([headless, slice(endpoints: 30)])], serial: 1)
        let pipeline = QueryPipeline(catalog: Catalog(snapshot: store.snapshot, configuration: configuration), cachingResponses: false)
        #expect(try addresses(Self.general(pipeline, shared, over: .udp)) == expected, "general path")
        #expect(pipeline.compileAnswers() != nil)
        #expect(try addresses(Self.copied(pipeline, shared, over: .udp)) == expected, "compiled table")
        let update = store.apply([.upsert(slice(endpoints: 31))], serial: 2)
        _ = pipeline.apply(try #require(update))
        #expect(try addresses(Self.copied(pipeline, shared, over: .udp)) == expected, "patched table")
    }

    /// A patch only moves the registry's serial on in the NODATA answers every name shares: it
    /// writes the new serial into them in place rather than encoding them again, they keep their
    /// places (no body is added twice), and they answer as a fresh table's.
    @Test func aPatchWritesTheNewSerialIntoTheNoDataAnswersInPlace() throws {
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), nameServerAddresses: [IPAddress("127.0.0.1")!])
        var store = RegistryStore()
        _ = store.apply([.replaceAll((0..<50).map { Self.service($0) })], serial: 1)
        var catalog = Catalog(snapshot: store.snapshot, configuration: configuration)
        var table = AnswerTable(catalog: catalog)
        let noDataBytes = table.noDataByteCount
        for step in 0..<3 {
            let applied = store.apply([.upsert(Self.service(step, address: 500 + step))], serial: UInt32(step + 2))
            let update = try #require(applied)
            let changed: [DNSName: [RecordType]?]
            (catalog, changed) = catalog.applying(update)
            table = table.patched(catalog: catalog, names: changed)
            #expect(table.noDataSerialsWrittenInPlace, "step \(step)")
            #expect(table.noDataByteCount == noDataBytes, "step \(step)")
        }
        let fresh = AnswerTable(catalog: catalog)
        var compared = 0
        for name in Self.heldNames(catalog) {
            // AAAA and NULL: NODATA at every name of an IPv4 cluster.
            for type in [RecordType.aaaa, RecordType(10)] {
                let query = Self.query(name, type)
                func answer(_ table: AnswerTable) -> [UInt8]? {
                    query.withUnsafeBytes { bytes in
                        guard let view = DNSQueryView(bytes, transport: .udp) else { return nil }
                        var output = [UInt8](repeating: 0, count: 512)
                        let length = output.withUnsafeMutableBytes { table.answer(view, query: bytes, into: $0) }
                        return length.map { Array(output[..<$0]) }
                    }
                }
                guard let patched = answer(table) else { continue }
                compared += 1
                #expect(patched == answer(fresh), "\(name) \(type)")
                let message = try DNSMessageDecoder.decode(bytes: patched)
                let serial: UInt32? = message.authority.first.flatMap { if case .soa(let soa) = $0.data { soa.serial } else { nil } }
                #expect(serial == 4, "\(name) \(type)")
            }
        }
        #expect(compared >= 50 * 2)
    }

    /// A whole compile's entries live in one block its shards share. Patches move shards out of
    /// it; once most of it is dead the rest follow a few shards a patch, and the block is let go
    /// with the last, never to be held again until the next whole compile.
    @Test func theCompilesBlockIsLetGoAFewShardsAPatchOnceMostOfItIsDead() throws {
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), nameServerAddresses: [IPAddress("127.0.0.1")!])
        var store = RegistryStore()
        _ = store.apply([.replaceAll((0..<400).map { Self.service($0) })], serial: 1)
        var catalog = Catalog(snapshot: store.snapshot, configuration: configuration)
        var table = AnswerTable(catalog: catalog)
        #expect(table.holdsCompileBlock)
        var letGoAt: Int?
        for index in 0..<400 {
            let applied = store.apply([.upsert(Self.service(index, address: 1000 + index))], serial: UInt32(index + 2))
            let (next, names) = catalog.applying(try #require(applied))
            let before = table
            table = before.patched(catalog: next, names: names)
            catalog = next
            // Each name lies in one shard; beyond those, at most 4 shards (16 / 8, at least 4) move a patch.
            #expect(table.shardsCopied <= names.count + 4, "step \(index)")
            if before.holdsCompileBlock && !table.holdsCompileBlock { letGoAt = index }
            if letGoAt != nil { #expect(!table.holdsCompileBlock, "step \(index): the block is not held again") }
        }
        #expect(letGoAt != nil, "the block was let go")
        #expect(table.nameCount == AnswerTable(catalog: catalog).nameCount)
    }

    @Test func aClientsSpellingAndFlagsAreEchoed() throws {
        let catalog = try Self.exampleCatalog(podMode: .disabled)
        let pipeline = QueryPipeline(catalog: catalog, cachingResponses: false)
        pipeline.compileAnswers()
        let name = try DNSName("Kubernetes.DEFAULT.svc.Cluster.Local")
        let bytes = try #require(Self.copied(pipeline, Self.query(name, .a, id: 0x0102, recursionDesired: false), over: .udp))
        let response = try DNSMessageDecoder.decode(ByteBuffer(bytes: bytes))
        #expect(response.header.id == 0x0102)
        #expect(!response.header.recursionDesired)
        #expect(response.header.isAuthoritative)
        #expect(response.questions.map(\.name.description) == ["Kubernetes.DEFAULT.svc.Cluster.Local."])
        #expect(response.answers.map(\.name.description) == ["Kubernetes.DEFAULT.svc.Cluster.Local."])
        #expect(response.answers.map(\.data) == [.a(0x0a60_0001)])
    }

    @Test func namesOutsideTheCompiledAnswersTakeTheGeneralPath() throws {
        let pipeline = QueryPipeline(catalog: try Self.exampleCatalog(podMode: .disabled), cachingResponses: false)
        pipeline.compileAnswers()
        for text in ["nope.default.svc.cluster.local", "google.com.default.svc.cluster.local", "example.com", "9.9.9.10.in-addr.arpa"] {
            #expect(Self.copied(pipeline, Self.query(try DNSName(text), .a), over: .udp) == nil, "\(text)")
        }
        // ANY gets RFC 8482's minimal answer, built on the general path; so does every meta type.
        for type in [RecordType.any, .axfr, RecordType(250), RecordType(41)] {
            #expect(Self.copied(pipeline, Self.query(try DNSName("kubernetes.default.svc.cluster.local"), type), over: .udp) == nil)
        }
    }

    @Test func aNewCatalogIsNeverAnsweredFromTheOldOnesCompiledAnswers() throws {
        let pipeline = QueryPipeline(catalog: try Self.exampleCatalog(podMode: .disabled), cachingResponses: false)
        pipeline.compileAnswers()
        let kubernetes = Self.query(try DNSName("kubernetes.default.svc.cluster.local"), .a)
        #expect(Self.copied(pipeline, kubernetes, over: .udp) != nil)

        let empty = RegistrySnapshot(serial: 2, services: [], endpointGroups: [:], pods: [], namespaces: ["default"])
        pipeline.publish(Catalog(snapshot: empty, configuration: ZoneConfiguration(domain: try DNSName("cluster.local"))))
        #expect(Self.copied(pipeline, kubernetes, over: .udp) == nil)
        let response = try DNSMessageDecoder.decode(ByteBuffer(bytes: try #require(Self.general(pipeline, kubernetes, over: .udp))))
        #expect(response.header.responseCode == .nameError)
        pipeline.compileAnswers()
        #expect(Self.copied(pipeline, kubernetes, over: .udp) == nil)
    }

    @Test func anAnswerTooBigForTheClientIsLeftToTruncation() throws {
        let pipeline = QueryPipelineTests.pipeline(endpointCount: 100)
        pipeline.compileAnswers()
        let web = Self.query(try DNSName("web.shop.svc.cluster.local"), .a)
        #expect(Self.copied(pipeline, web, over: .udp) == nil)
        let truncated = try DNSMessageDecoder.decode(ByteBuffer(bytes: try #require(Self.general(pipeline, web, over: .udp))))
        #expect(truncated.header.isTruncated)
        let whole = try DNSMessageDecoder.decode(ByteBuffer(bytes: try #require(Self.copied(pipeline, web, over: .tcp))))
        #expect(whole.answers.count == 100)
    }

    /// Damaged queries (bytes flipped, cut short, grown) must never make the copying path read or
    /// write out of bounds (debug builds check), and whatever it answers must be what the general
    /// path answers to the same bytes.
    @Test func damagedQueriesAreCopiedOnlyWhenTheGeneralPathAgrees() throws {
        let catalog = try Self.exampleCatalog(podMode: .disabled)
        let compiled = QueryPipeline(catalog: catalog, cachingResponses: false)
        compiled.compileAnswers()
        let general = QueryPipeline(catalog: catalog, cachingResponses: false)
        let seeds = try [
            Self.query(try DNSName("kubernetes.default.svc.cluster.local"), .a),
            Self.query(try DNSName("_https._tcp.kubernetes.default.svc.cluster.local"), .srv, edns: EDNS(udpPayloadSize: 1232)),
            Self.query(try DNSName("1.0.96.10.in-addr.arpa"), .ptr),
        ]
        var random = SystemRandomNumberGenerator()
        var copies = 0
        for round in 0..<3000 {
            var bytes = seeds[round % seeds.count]
            switch round % 3 {
            case 0:
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            case 1:
                bytes.removeLast(Int.random(in: 1..<bytes.count, using: &random))
            default:
                bytes += (0..<Int.random(in: 1...20, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            for transport in [DNSTransport.udp, .tcp] {
                guard let copied = Self.copied(compiled, bytes, over: transport) else { continue }
                copies += 1
                #expect(copied == Self.general(general, bytes, over: transport), "\(bytes)")
            }
        }
        #expect(copies > 0, "some damage (a changed ID, a flipped RD bit) leaves a query answerable")
    }
}

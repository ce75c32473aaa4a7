import ClusterZones
import DNSServer
import DNSWire
import ServiceRegistry
import Testing

/// Static zones on the query path: never in the compiled answer table (which must not answer
/// NXDOMAIN for their names), answered by the general path and then each thread's cache, and
/// swapped on reload without losing the table or serving a cached answer of the old zone.
@Suite struct StaticZonePipelineTests {
    static func zone(www address: String) throws -> StaticZone {
        try StaticZone.parse(
            text: "@ 60 IN SOA ns hostmaster 1 3600 600 86400 5\n@ 60 IN NS ns\nns 60 IN A 192.0.2.1\nwww 60 IN A \(address)\n",
            origin: DNSName("example.internal"), file: "example.internal.zone")
    }

    static func pipeline() throws -> QueryPipeline {
        let api = Service(name: "api", namespace: "shop", clusterIPs: [IPAddress("10.96.0.20")!], ports: [ServicePort(name: "http", port: 80)])
        let snapshot = RegistrySnapshot(serial: 7, services: [api], endpointGroups: [:], pods: [], namespaces: ["shop"])
        let catalog = Catalog(snapshot: snapshot, configuration: ZoneConfiguration(domain: try DNSName("cluster.local")), staticZones: [try zone(www: "192.0.2.10")])
        let pipeline = QueryPipeline(catalog: catalog)
        #expect(pipeline.compileAnswers() != nil)
        return pipeline
    }

    static func ask(_ pipeline: QueryPipeline, _ name: String, _ type: RecordType = .a) throws -> (message: DNSMessage, path: AnswerPath) {
        let (bytes, path) = try #require(pipeline.answer(try queryBytes(name, type)))
        return (try DNSMessageDecoder.decode(bytes: bytes), path)
    }

    @Test func staticNamesAreAnsweredBesideTheCompiledTableNeverFromIt() throws {
        let pipeline = try Self.pipeline()
        let cluster = try Self.ask(pipeline, "api.shop.svc.cluster.local")
        #expect(cluster.path == .answerTable)
        let first = try Self.ask(pipeline, "www.example.internal")
        #expect(first.path == .general)
        #expect(first.message.answers.map(\.data) == [.a(0xc000_020a)])
        #expect(first.message.header.isAuthoritative)
        let again = try Self.ask(pipeline, "WWW.example.internal")
        #expect(again.path == .cache)
        #expect(again.message.answers.map(\.data) == [.a(0xc000_020a)])
        let missing = try Self.ask(pipeline, "nothing.example.internal")
        #expect(missing.path == .general)
        #expect(missing.message.header.responseCode == .nameError)
        #expect(missing.message.authority.map(\.type) == [.soa])
    }

    @Test func aReloadedZoneIsAnsweredAtOnceAndTheTableIsKept() throws {
        let pipeline = try Self.pipeline()
        #expect(try Self.ask(pipeline, "www.example.internal").message.answers.map(\.data) == [.a(0xc000_020a)])
        #expect(try Self.ask(pipeline, "www.example.internal").path == .cache)
        pipeline.replaceStaticZones([try Self.zone(www: "192.0.2.11")])
        let reloaded = try Self.ask(pipeline, "www.example.internal")
        #expect(reloaded.message.answers.map(\.data) == [.a(0xc000_020b)])
        #expect(try Self.ask(pipeline, "api.shop.svc.cluster.local").path == .answerTable)

        // A new registry published later keeps serving the static zones; removing them is REFUSED.
        pipeline.publish(Catalog(snapshot: pipeline.catalog.snapshot, configuration: pipeline.catalog.configuration))
        #expect(try Self.ask(pipeline, "www.example.internal").message.answers.map(\.data) == [.a(0xc000_020b)])
        pipeline.replaceStaticZones([])
        #expect(try Self.ask(pipeline, "www.example.internal").message.header.responseCode == .refused)
    }
}

import ClusterZones
import DNSServer
import DNSWire
@testable import ServiceRegistry
import SpecSupport
import Testing

/// The proof that incremental equals full: random sequences of registry events, applied one batch
/// at a time to a store and a serving pipeline (catalog and answer table patched per change), give
/// byte for byte the responses of a pipeline built from scratch from the final objects: every held
/// name × type, NXDOMAIN at every name that ever existed and is gone, PTRs, the partial reverse
/// names above them (empty non-terminals while an address below is held), and the SOA serial.
@Suite struct IncrementalRegistryModelTests {
    /// A small universe, so that events collide: shared endpoint IPs, ClusterIP clashes, selectors
    /// meeting pods, slices moving between Services, namespaces coming and going.
    struct Universe {
        var random: SplitMix

        mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

        let namespaces = ["shop", "auth", "ops"]
        let serviceNames = ["web", "api", "db", "cache", "1kube", "mail"]

        mutating func serviceYAML() -> String {
            let namespace = pick(namespaces)
            let name = pick(serviceNames)
            var spec: [String] = []
            switch random.next() % 5 {
            case 0: spec.append("clusterIP: None")
            case 1: spec.append("type: ExternalName, externalName: \(pick(["db.example.com", "web.shop.svc.cluster.local", "api.auth.svc.cluster.local"]))")
            case 2: break  // allocated
            default: spec.append("clusterIP: 10.96.0.\(1 + random.next() % 6)")
            }
            let ports = [
                "{name: http, port: 80, protocol: TCP}", "{name: dns, port: 53, protocol: UDP}", "{port: 8080}",
            ]
            let count = 1 + Int(random.next() % 2)
            spec.append("ports: [\((0..<count).map { _ in pick(ports) }.uniqued().joined(separator: ", "))]")
            if chance(50) { spec.append("selector: {app: \(pick(["a", "b"]))}") }
            if chance(20) { spec.append("publishNotReadyAddresses: true") }
            return "apiVersion: v1\nkind: Service\nmetadata: {name: \(name), namespace: \(namespace)}\nspec: {\(spec.joined(separator: ", "))}\n"
        }

        mutating func sliceYAML() -> String {
            let namespace = pick(namespaces)
            let service = pick(serviceNames)
            let name = "\(service)-\(pick(["x", "y"]))"
            // Now and then a large slice: a Service of more than sixteen endpoint names finds its
            // labels by a table rather than by scanning (`ClusterZone.endpointLabels(of:)`).
            let large = chance(8)
            let endpoints = (0..<(large ? 12 + Int(random.next() % 6) : Int(random.next() % 3))).map { _ -> String in
                let hostname = chance(30) ? ", hostname: \(pick(["h0", "h1"]))" : ""
                return "{addresses: [10.244.0.\(1 + random.next() % (large ? 40 : 8))], conditions: {ready: \(chance(80))}\(hostname)}"
            }
            return """
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: \(name), namespace: \(namespace), labels: {kubernetes.io/service-name: \(service)}}
                addressType: IPv4
                endpoints: [\(endpoints.joined(separator: ", "))]
                ports: [{name: http, port: 8080, protocol: TCP}]

                """
        }

        mutating func podYAML() -> String {
            let namespace = pick(namespaces)
            return """
                apiVersion: v1
                kind: Pod
                metadata: {name: \(pick(["p0", "p1", "p2"])), namespace: \(namespace), labels: {app: \(pick(["a", "b"]))}}
                spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 80}]}]}
                status: {podIP: 10.244.0.\(1 + random.next() % 8), phase: Running, conditions: [{type: Ready, status: "\(chance(80) ? "True" : "False")"}]}

                """
        }

        mutating func namespaceYAML() -> String {
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(pick(namespaces + ["empty"]))}\n"
        }

        /// One to three events (deletes, upserts, now and then a whole new list), applied to `model`
        /// as the store will apply them.
        mutating func events(applyingTo model: inout [RegistryObjectKey: RegistryObject]) -> [RegistryEvent] {
            var events: [RegistryEvent] = []
            for _ in 0..<(1 + Int(random.next() % 3)) {
                if chance(25), let key = model.keys.sorted().randomElement(using: &random) {
                    model[key] = nil
                    events.append(.delete(key))
                } else if chance(3) {
                    // A relist; now and then some held objects are listed in versions the source
                    // could not use, and keep the version held.
                    var objects = (0..<8).map { _ in object() }
                    let kept = chance(50) ? Set(model.keys.filter { _ in chance(30) }) : []
                    objects.removeAll { kept.contains($0.key) }
                    model = model.filter { kept.contains($0.key) }
                    for object in objects where model[object.key] == nil { model[object.key] = object }
                    events.append(.replaceAll(objects, keeping: kept))
                } else {
                    let upserted = object()
                    model[upserted.key] = upserted
                    events.append(.upsert(upserted))
                }
            }
            return events
        }

        mutating func object() -> RegistryObject {
            let text: String
            switch random.next() % 10 {
            case 0...3: text = serviceYAML()
            case 4...6: text = sliceYAML()
            case 7...8: text = podYAML()
            default: text = namespaceYAML()
            }
            let decoded = DecodedFile(ManifestFile(path: "model.yaml", contents: .success(text)))
            precondition(decoded.objects.count == 1, "the model wrote an object the loader rejects: \(text) \(decoded.errors)")
            return decoded.objects[0]
        }
    }

    static let configuration = ZoneConfiguration(
        domain: try! DNSName("cluster.local"), ttl: 5, podMode: .verified, nameServerAddresses: [IPAddress("127.0.0.1")!])
    static let types: [RecordType] = [.a, .aaaa, .srv, .ptr, .cname, .txt, .soa, .ns, .mx]

    @Test("events applied one batch at a time answer exactly as the registry built from the final objects", arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func incrementalEqualsFromScratch(seed: UInt64) throws {
        var universe = Universe(random: SplitMix(seed: seed))
        var model: [RegistryObjectKey: RegistryObject] = [:]
        var store = RegistryStore()
        _ = store.apply([.replaceAll([])], serial: 100)
        let pipeline = QueryPipeline(catalog: Catalog(snapshot: store.snapshot, configuration: Self.configuration), cachingResponses: false)
        pipeline.compileAnswers()
        var everHeld = Set<DNSName>()
        var serial = store.snapshot.serial

        for step in 1...120 {
            let events = universe.events(applyingTo: &model)
            if let update = store.apply(events, serial: serial + 1) {
                #expect(update.snapshot.serial > serial)
                serial = update.snapshot.serial
                pipeline.apply(update)
            }
            everHeld.formUnion(Self.heldNames(pipeline.catalog))
            everHeld.formUnion(pipeline.catalog.partialReverseNames)
            guard step % 10 == 0 else { continue }

            var fresh = RegistryStore()
            _ = fresh.apply([.replaceAll(model.values.sorted { $0.key < $1.key })], serial: serial)
            let scratch = QueryPipeline(catalog: Catalog(snapshot: fresh.snapshot, configuration: Self.configuration), cachingResponses: false)
            scratch.compileAnswers()
            let freshNames = Self.heldNames(scratch.catalog)
            #expect(Self.heldNames(pipeline.catalog) == freshNames, "seed \(seed) step \(step)")
            for name in everHeld.union(freshNames).sorted(by: { $0.description < $1.description }) {
                for type in Self.types {
                    let query = try queryBytes(name.description, type)
                    let incremental = try #require(pipeline.answer(query))
                    let expected = try #require(scratch.answer(query))
                    #expect(incremental.bytes == expected.bytes, "seed \(seed) step \(step): \(name) \(type) differs")
                    #expect(incremental.path == expected.path, "seed \(seed) step \(step): \(name) \(type) took another path")
                }
            }
        }
    }

    @Test("a list staged and derived page by page, then committed whole, answers as one replaceAll of it", arguments: [7, 8, 9] as [UInt64])
    func aListStagedInPagesEqualsOneReplaceAll(seed: UInt64) throws {
        var universe = Universe(random: SplitMix(seed: seed))
        var model: [RegistryObjectKey: RegistryObject] = [:]
        for _ in 1...60 { _ = universe.events(applyingTo: &model) }
        let objects = model.values.sorted { $0.key < $1.key }
        var paged = RegistryStore()
        var rest = objects[...]
        while !rest.isEmpty {
            let size = 1 + Int(universe.random.next() % 7)
            paged.stage(rest.prefix(size).map { .upsert($0) })
            paged.deriveStaged()
            rest = rest.dropFirst(size)
        }
        #expect(paged.snapshot.serial == 0 && !paged.isSynced)
        paged.stage([.synced])
        // Every page is derived already: committing the whole still takes a serial.
        paged.commitWhole(serial: 500)
        #expect(paged.snapshot.serial == 500 && paged.isSynced)

        var whole = RegistryStore()
        _ = whole.apply([.replaceAll(objects)], serial: 500)
        let pagedPipeline = QueryPipeline(catalog: Catalog(snapshot: paged.snapshot, configuration: Self.configuration), cachingResponses: false)
        let wholePipeline = QueryPipeline(catalog: Catalog(snapshot: whole.snapshot, configuration: Self.configuration), cachingResponses: false)
        let names = Self.heldNames(wholePipeline.catalog)
        #expect(!names.isEmpty)
        #expect(Self.heldNames(pagedPipeline.catalog) == names, "seed \(seed)")
        for name in names.sorted(by: { $0.description < $1.description }) {
            for type in Self.types {
                let query = try queryBytes(name.description, type)
                #expect(try #require(pagedPipeline.answer(query)).bytes == (try #require(wholePipeline.answer(query))).bytes, "seed \(seed): \(name) \(type) differs")
            }
        }
    }

    static func heldNames(_ catalog: Catalog) -> Set<DNSName> {
        var names = Set<DNSName>()
        catalog.forEachHeldName { name, _ in names.insert(name.lowercased()) }
        return names
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

@testable import ClusterZones
import DNSWire
@testable import ServiceRegistry
import Testing

/// A large registry's catalog fills its reverse index on a second thread; it must be the catalog
/// one thread makes, name for name.
@Suite struct CatalogIndexesTests {
    /// 2,000 Services in 4 namespaces (more addresses than a batch handed to the second thread):
    /// ClusterIPs of both families, headless Services whose slices share endpoint addresses with
    /// each other's (an address with several PTR targets, counted once under its prefixes), and
    /// ExternalName Services.
    static func manifest() -> String {
        var text = ""
        for index in 0..<2000 {
            let namespace = "ns\(index % 4)"
            switch index % 5 {
            case 0, 1:
                text += "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index), namespace: \(namespace)}\n"
                    + "spec: {clusterIP: 10.96.\(index / 250).\(index % 250 + 1), ports: [{name: http, port: 80}]}\n---\n"
            case 2:
                text += "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index), namespace: \(namespace)}\n"
                    + "spec: {clusterIP: \"fd00::\(String(index, radix: 16))\", ipFamilies: [IPv6], ports: [{name: http, port: 80}]}\n---\n"
            case 3:
                text += "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index), namespace: \(namespace)}\n"
                    + "spec: {clusterIP: None, ports: [{name: http, port: 80}]}\n---\n"
                    + "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
                    + "metadata: {name: s\(index)-x, namespace: \(namespace), labels: {kubernetes.io/service-name: s\(index)}}\n"
                    + "addressType: IPv4\nports: [{name: http, port: 80}]\n"
                    + "endpoints: [{addresses: [10.244.\(index % 7).\(index % 200 + 1)]}, {addresses: [10.244.9.\(index % 50 + 1)], hostname: h\(index % 3)}]\n---\n"
            default:
                text += "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index), namespace: \(namespace)}\n"
                    + "spec: {type: ExternalName, externalName: s\(index).example.com}\n---\n"
            }
        }
        return text
    }

    @Test func aCatalogWhoseReverseIndexIsFilledOnASecondThreadAnswersAsOneMadeOnOne() throws {
        var store = RegistryStore()
        let objects = DecodedFile(ManifestFile(path: "many.yaml", contents: .success(Self.manifest()))).objects
        #expect(objects.count == 2400)
        _ = store.apply([.replaceAll(objects)], serial: 3)
        let configuration = ZoneConfiguration(domain: try DNSName("cluster.local"), nameServerAddresses: [IPAddress("192.0.2.53")!])
        let pipelined = Catalog(snapshot: store.snapshot, configuration: configuration,
                                indexes: CatalogIndexes(snapshot: store.snapshot, domain: configuration.domain, pipelinedFrom: 0))
        let oneThread = Catalog(snapshot: store.snapshot, configuration: configuration,
                                indexes: CatalogIndexes(snapshot: store.snapshot, domain: configuration.domain, pipelinedFrom: .max))

        var names: [DNSName: [RecordType]] = [:]
        pipelined.forEachHeldName { name, types in names[name] = types }
        var namesOfOne: [DNSName: [RecordType]] = [:]
        oneThread.forEachHeldName { name, types in namesOfOne[name] = types }
        #expect(names == namesOfOne)
        #expect(names.keys.filter { $0.description.hasSuffix("in-addr.arpa.") }.count > 1000)

        func text(_ answer: Answer) -> String {
            "\(answer.responseCode) " + answer.answers.map { "\($0.name) \($0.type) \($0.data.presentation)" }.sorted().joined(separator: "; ")
        }
        // Every held name, and the partial reverse names above them (NODATA while an address is below).
        var asked = Set(names.keys)
        for name in names.keys where name.description.hasSuffix("in-addr.arpa.") || name.description.hasSuffix("ip6.arpa.") {
            for dropped in 1..<max(1, name.labelCount - 2) { asked.insert(name.dropping(dropped)) }
        }
        for name in asked {
            for type in [RecordType.ptr, .a, .aaaa, .srv, .cname] {
                let question = DNSQuestion(name: name, type: type)
                #expect(text(pipelined.answer(question)) == text(oneThread.answer(question)), "\(name) \(type)")
            }
        }
        // An address shared by two headless Services has both as its PTR targets.
        let shared = try DNSName("4.9.244.10.in-addr.arpa")
        #expect(pipelined.answer(DNSQuestion(name: shared, type: .ptr)).answers.count > 1)
    }
}

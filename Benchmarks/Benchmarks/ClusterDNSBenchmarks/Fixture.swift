import ClusterZones
import DNSServer
import DNSWire
import NIOCore
import ServiceRegistry

/// SplitMix64: a seeded generator, so every run benchmarks the same cluster and the same queries.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A large cluster built in memory, shaped like `generate-cluster.py --preset large` (not record
/// for record): 100 namespaces, 2% ExternalName, 8% headless with 4 endpoints (half with
/// hostnames), the rest ClusterIP/NodePort/LoadBalancer with one or two named ports and 0-3
/// endpoints, 5% of them dual-stack.
struct ClusterFixture: Sendable {
    let services: [Service]
    let endpointGroups: [ObjectKey: [EndpointGroup]]
    let namespaces: [String]

    /// Names of each kind, for building questions.
    let clusterIPNames: [String]
    let headlessNames: [String]
    let srvNames: [String]
    let clusterIPs: [IPAddress]

    static let domain = "cluster.local"

    init(services count: Int, namespaces namespaceCount: Int = 100, seed: UInt64 = 1) {
        var random = SeededGenerator(seed: seed)
        let namespaces = (0..<namespaceCount).map { "team-" + String($0 + 1000).dropFirst() }
        var services: [Service] = []
        var groups: [ObjectKey: [EndpointGroup]] = [:]
        var clusterIPNames: [String] = []
        var headlessNames: [String] = []
        var srvNames: [String] = []
        var clusterIPs: [IPAddress] = []
        var nextServiceIP: UInt32 = 0x0a60_0010  // 10.96.0.16
        var nextServiceIPv6: UInt64 = 0x10
        var nextPodIP: UInt32 = 0x0af4_0100  // 10.244.1.0
        services.reserveCapacity(count)
        for index in 0..<count {
            let namespace = namespaces[index % namespaceCount]
            let name = "svc-\(index)"
            let fqdn = "\(name).\(namespace).svc.\(Self.domain)"
            let key = ObjectKey(namespace: namespace, name: name)
            let roll = Double.random(in: 0..<1, using: &random)
            let ports = roll < 0.5
                ? [ServicePort(name: "http", port: 80, targetPort: .number(8080))]
                : [ServicePort(name: "http", port: 80, targetPort: .number(8080)), ServicePort(name: "metrics", port: 9100)]
            func endpoints(_ n: Int, hostnames: Bool) -> [Endpoint] {
                (0..<n).map { ordinal in
                    nextPodIP += 1
                    if nextPodIP & 0xff == 0 || nextPodIP & 0xff == 0xff { nextPodIP += 2 }
                    return Endpoint(addresses: [.v4(nextPodIP)], hostname: hostnames ? "\(name)-\(ordinal)" : nil,
                                    ready: Double.random(in: 0..<1, using: &random) >= 0.05)
                }
            }
            let endpointPorts = ports.map { EndpointPort(name: $0.name, port: $0.port == 80 ? 8080 : $0.port) }
            if roll < 0.02 {
                services.append(Service(name: name, namespace: namespace, type: .externalName, externalName: "db.example.com"))
            } else if roll < 0.10 {
                services.append(Service(name: name, namespace: namespace, isHeadless: true, ports: ports, selector: ["app": name]))
                let group = EndpointGroup(origin: .endpointSlice, object: ObjectReference(kind: "EndpointSlice", namespace: namespace, name: name + "-abcde"),
                                          addressType: .ipv4, endpoints: endpoints(4, hostnames: index % 2 == 0), ports: endpointPorts)
                groups[key] = [group]
                headlessNames.append(fqdn)
            } else {
                nextServiceIP += 1
                var addresses: [IPAddress] = [.v4(nextServiceIP)]
                if Double.random(in: 0..<1, using: &random) < 0.05 {
                    nextServiceIPv6 += 1
                    addresses.append(.v6(high: 0xfd00_0010_0096_0000, low: nextServiceIPv6))
                }
                let typeRoll = Double.random(in: 0..<1, using: &random)
                let type: ServiceType = typeRoll < 0.15 ? .nodePort : typeRoll < 0.25 ? .loadBalancer : .clusterIP
                services.append(Service(name: name, namespace: namespace, type: type, clusterIPs: addresses, ports: ports, selector: ["app": name]))
                let endpointRoll = Double.random(in: 0..<1, using: &random)
                let endpointCount = endpointRoll < 0.62 ? 0 : endpointRoll < 0.90 ? 1 : endpointRoll < 0.98 ? 2 : 3
                groups[key] = [EndpointGroup(origin: .endpointSlice, object: ObjectReference(kind: "EndpointSlice", namespace: namespace, name: name + "-abcde"),
                                             addressType: .ipv4, endpoints: endpoints(endpointCount, hostnames: false), ports: endpointPorts)]
                clusterIPNames.append(fqdn)
                srvNames.append("_http._tcp." + fqdn)
                clusterIPs.append(addresses[0])
            }
        }
        self.services = services
        self.endpointGroups = groups
        self.namespaces = namespaces
        self.clusterIPNames = clusterIPNames
        self.headlessNames = headlessNames
        self.srvNames = srvNames
        self.clusterIPs = clusterIPs
    }

    func snapshot(serial: UInt32 = 1) -> RegistrySnapshot {
        RegistrySnapshot(serial: serial, services: services, endpointGroups: endpointGroups, pods: [], namespaces: namespaces)
    }

    static func configuration() -> ZoneConfiguration {
        ZoneConfiguration(domain: try! DNSName(domain), ttl: 5, podMode: .disabled, nameServerAddresses: [IPAddress("127.0.0.1")!])
    }
}

/// The kinds of question the load mix asks, each benchmarked on its own.
enum QueryKind: String, CaseIterable, Sendable {
    case clusterIPA = "A ClusterIP"
    case headlessA = "A headless (4 records)"
    case srv = "SRV _http._tcp"
    case aaaaNoData = "AAAA NODATA"
    case searchPathNXDomain = "A NXDOMAIN (ndots:5 search path)"
    case ptr = "PTR ClusterIP"
}

/// The 50k-service cluster, its catalog and query sets, built once per benchmark process.
enum Large {
    static let fixture = ClusterFixture(services: 50_000)
    static let catalog = Catalog(snapshot: fixture.snapshot(), configuration: ClusterFixture.configuration())
    static let pipeline = QueryPipeline(catalog: catalog)
    static let compiledPipeline: QueryPipeline = {
        let pipeline = QueryPipeline(catalog: catalog)
        pipeline.compileAnswers()
        return pipeline
    }()
    static let countedPipeline: QueryPipeline = {
        let pipeline = QueryPipeline(catalog: catalog, metrics: QueryMetrics(server: "dns://127.0.0.1:53"))
        pipeline.compileAnswers()
        return pipeline
    }()

    /// The bytes of each packet, as the UDP batch engine receives them.
    static func rawPackets(_ packets: [ByteBuffer]) -> [[UInt8]] {
        packets.map { Array($0.readableBytesView) }
    }

    /// 1024 seeded questions of one kind, so lookups are not all cache-hot on one name.
    static func questions(_ kind: QueryKind, count: Int = 1024) -> [DNSQuestion] {
        var random = SeededGenerator(seed: 42)
        return (0..<count).map { _ in
            let text: String
            var type = RecordType.a
            switch kind {
            case .clusterIPA:
                text = fixture.clusterIPNames.randomElement(using: &random)!
            case .headlessA:
                text = fixture.headlessNames.randomElement(using: &random)!
            case .srv:
                text = fixture.srvNames.randomElement(using: &random)!
                type = .srv
            case .aaaaNoData:
                text = fixture.clusterIPNames.randomElement(using: &random)!
                type = .aaaa
            case .searchPathNXDomain:
                let namespace = fixture.namespaces.randomElement(using: &random)!
                text = ["google.com.\(namespace).svc.cluster.local",
                        "\(fixture.clusterIPNames.randomElement(using: &random)!).\(namespace).svc.cluster.local"].randomElement(using: &random)!
            case .ptr:
                text = ZoneExport.reverseName(of: fixture.clusterIPs.randomElement(using: &random)!)!.description
                type = .ptr
            }
            return DNSQuestion(name: try! DNSName(text), type: type)
        }
    }

    /// The questions as query packets, as dnsperf sends them (RD set, no EDNS unless asked).
    static func queryPackets(_ kind: QueryKind, count: Int = 1024, edns: Bool = false) -> [ByteBuffer] {
        questions(kind, count: count).enumerated().map { index, question in
            let message = DNSMessage.query(id: UInt16(truncatingIfNeeded: index), name: question.name, type: question.type,
                                           edns: edns ? EDNS(udpPayloadSize: 1232) : nil)
            return ByteBuffer(bytes: DNSMessageEncoder.encode(message))
        }
    }

    /// The load mix of `generate-cluster.py` in proportion: `count` packets.
    static func mixedPackets(count: Int = 1024) -> [ByteBuffer] {
        let weights: [(QueryKind, Int)] = [(.clusterIPA, 60), (.headlessA, 10), (.srv, 10), (.aaaaNoData, 5), (.searchPathNXDomain, 10), (.ptr, 5)]
        var packets: [ByteBuffer] = []
        for (kind, weight) in weights {
            packets += queryPackets(kind, count: weight * count / 100)
        }
        var random = SeededGenerator(seed: 7)
        packets.shuffle(using: &random)
        return packets
    }
}

/// A position that survives from one sample to the next, so a benchmark can walk a query set
/// larger than one sample (1000 queries) instead of repeating its first 1000.
final class Cursor: @unchecked Sendable {
    private var position = 0
    func next(_ count: Int) -> Int {
        defer { position = (position + 1) % count }
        return position
    }
}

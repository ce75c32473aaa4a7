import ClusterDNS
import DNSWire
import ServiceRegistry

/// The cluster every spec case is asked against: one of each kind of Service the spec names.
enum SpecFixture {
    static func ip(_ text: String) -> IPAddress { IPAddress(text)! }

    static let snapshot: RegistrySnapshot = {
        let services = [
            Service(name: "kubernetes", namespace: "default", clusterIPs: [ip("10.96.0.1")],
                    ports: [ServicePort(name: "https", port: 443)]),
            Service(name: "api", namespace: "shop", clusterIPs: [ip("10.96.0.20")],
                    ports: [ServicePort(name: "http", port: 80), ServicePort(name: "grpc", port: 9090)]),
            Service(name: "web", namespace: "shop", isHeadless: true, ports: [ServicePort(name: "http", port: 8080)]),
            Service(name: "anon", namespace: "shop", isHeadless: true, ports: [ServicePort(name: "metrics", port: 9100)]),
            Service(name: "cart", namespace: "shop", clusterIPs: [ip("10.96.0.30"), ip("fd00:10:96::30")],
                    ports: [ServicePort(name: "http", port: 80)]),
            Service(name: "db", namespace: "shop", type: .externalName, externalName: "db.example.com"),
            Service(name: "alias", namespace: "shop", type: .externalName, externalName: "api.shop.svc.cluster.local"),
            Service(name: "empty", namespace: "shop", isHeadless: true, ports: [ServicePort(name: "http", port: 80)]),
            Service(name: "peers", namespace: "shop", isHeadless: true, ports: [ServicePort(name: "gossip", protocol: .udp, port: 7946)],
                    publishNotReadyAddresses: true),
            Service(name: "metrics", namespace: "shop", type: .nodePort, clusterIPs: [ip("10.96.0.53")],
                    ports: [ServicePort(protocol: .udp, port: 53, nodePort: 30053)]),
        ]
        func slice(_ service: String, _ endpoints: [Endpoint], _ ports: [EndpointPort]) -> EndpointGroup {
            EndpointGroup(origin: .endpointSlice, object: ObjectReference(kind: "EndpointSlice", namespace: "shop", name: service + "-abcde"),
                          endpoints: endpoints, ports: ports)
        }
        let groups: [ObjectKey: [EndpointGroup]] = [
            ObjectKey(namespace: "shop", name: "api"): [
                slice("api", [Endpoint(addresses: [ip("10.244.1.5")], targetRef: ObjectReference(kind: "Pod", namespace: "shop", name: "api-1")),
                              Endpoint(addresses: [ip("10.244.1.6")], ready: false)],
                      [EndpointPort(name: "http", port: 8080), EndpointPort(name: "grpc", port: 9090)])
            ],
            ObjectKey(namespace: "shop", name: "web"): [
                slice("web", [Endpoint(addresses: [ip("10.244.2.10")], hostname: "web-0"),
                              Endpoint(addresses: [ip("10.244.2.11")], hostname: "web-1"),
                              Endpoint(addresses: [ip("10.244.2.12")], hostname: "web-2", ready: false)],
                      [EndpointPort(name: "http", port: 8080)])
            ],
            ObjectKey(namespace: "shop", name: "anon"): [
                slice("anon", [Endpoint(addresses: [ip("10.244.3.7")])], [EndpointPort(name: "metrics", port: 9100)]),
                slice("anon", [Endpoint(addresses: [ip("fd00:244::7")])], [EndpointPort(name: "metrics", port: 9100)]),
            ],
            ObjectKey(namespace: "shop", name: "empty"): [
                slice("empty", [Endpoint(addresses: [ip("10.244.5.5")], ready: false)], [EndpointPort(name: "http", port: 80)])
            ],
            ObjectKey(namespace: "shop", name: "peers"): [
                slice("peers", [Endpoint(addresses: [ip("10.244.4.4")], hostname: "peer-0", ready: false)],
                      [EndpointPort(name: "gossip", protocol: .udp, port: 7946)])
            ],
        ]
        let pods = [
            Pod(name: "api-1", namespace: "shop", labels: ["app": "api"], podIPs: [ip("10.244.1.5")]),
            Pod(name: "web-0", namespace: "shop", podIPs: [ip("10.244.2.10")], hostname: "web-0", subdomain: "web"),
        ]
        return RegistrySnapshot(serial: 42, services: services, endpointGroups: groups, pods: pods, namespaces: ["default", "shop", "quiet"])
    }()

    static func catalog(podMode: PodMode = .disabled) -> Catalog {
        Catalog(snapshot: snapshot, configuration: ZoneConfiguration(
            domain: try! DNSName("cluster.local"), ttl: 5, podMode: podMode, nameServerAddresses: [ip("127.0.0.1")]))
    }
}

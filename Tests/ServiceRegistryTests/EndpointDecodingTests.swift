import ServiceRegistry
import Testing

/// EndpointSlices and legacy Endpoints become endpoint groups of their Service; slices win.
@Suite struct EndpointDecodingTests {
    static let headlessWeb = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec: {clusterIP: None, ports: [{name: http, port: 80}]}
        """

    @Test func anEndpointSliceKeepsTheEndpointFieldsDNSAnswersFrom() throws {
        let result = ManifestLoader.load(text: Self.headlessWeb + """

            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-x7k2p
              namespace: shop
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            endpoints:
            - addresses: [10.244.1.10]
              hostname: web-0
              conditions: {ready: true, serving: true, terminating: false}
              targetRef: {kind: Pod, name: web-0}
              nodeName: node-a
              zone: zone-a
            - addresses: [10.244.1.11]
              conditions: {ready: false}
            - addresses: [10.244.1.12]
            ports:
            - {name: http, port: 8080}
            - {name: metrics, port: 9100, protocol: UDP}
            """, name: "slice.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        let groups = result.snapshot.endpointGroups(namespace: "shop", service: "web")
        let group = try #require(groups.first)
        #expect(groups.count == 1)
        #expect(group.origin == .endpointSlice)
        #expect(group.object == ObjectReference(kind: "EndpointSlice", namespace: "shop", name: "web-x7k2p"))
        #expect(group.addressType == .ipv4)
        #expect(group.source == SourceLocation(file: "slice.yaml", line: 6))
        #expect(group.ports == [EndpointPort(name: "http", port: 8080), EndpointPort(name: "metrics", protocol: .udp, port: 9100)])
        #expect(group.endpoints[0] == Endpoint(
            addresses: [IPAddress("10.244.1.10")!], hostname: "web-0", ready: true, serving: true, terminating: false
        ))
        #expect(group.endpoints[1].ready == false)
        // An absent ready condition counts as ready, as the API says.
        #expect(group.endpoints[2].ready == true && group.endpoints[2].hostname == nil)
        #expect(result.summary.readyEndpoints == 2 && result.summary.notReadyEndpoints == 1)
    }

    /// `targetRef`, `nodeName` and `zone` are not kept, but still checked as the API would.
    @Test func aMalformedTargetRefNodeNameOrZoneIsStillReported() {
        let result = ManifestLoader.load(text: Self.headlessWeb + """

            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-x7k2p, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            endpoints:
            - addresses: [10.244.1.10]
              targetRef: web-0
              nodeName: [node-a]
              zone: {name: zone-a}
            """, name: "slice.yaml")
        #expect(Set(result.errors.compactMap(\.field)) == ["endpoints[0].targetRef", "endpoints[0].nodeName", "endpoints[0].zone"], "\(result.report)")
    }

    @Test func legacyEndpointsGiveOneGroupPerSubsetWithNotReadyAddresses() throws {
        let result = ManifestLoader.load(text: Self.headlessWeb + """

            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: web, namespace: shop}
            subsets:
            - addresses:
              - {ip: 10.244.1.10, hostname: web-0, nodeName: node-a, targetRef: {kind: Pod, name: web-0, namespace: shop}}
              notReadyAddresses:
              - {ip: 10.244.1.11, hostname: web-1}
              ports: [{name: http, port: 8080}]
            - addresses:
              - {ip: 10.244.2.20}
              ports: [{name: http, port: 8081, protocol: TCP}]
            """, name: "endpoints.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        let groups = result.snapshot.endpointGroups(namespace: "shop", service: "web")
        #expect(groups.count == 2)
        #expect(groups.allSatisfy { $0.origin == .endpoints && $0.object.kind == "Endpoints" })
        #expect(groups[0].endpoints.map(\.ready) == [true, false])
        #expect(groups[0].endpoints.map(\.hostname) == ["web-0", "web-1"])
        #expect(groups[0].ports == [EndpointPort(name: "http", port: 8080)])
        #expect(groups[1].ports == [EndpointPort(name: "http", port: 8081)])
    }

    @Test func slicesWinOverLegacyEndpointsAndTheSelector() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: None, selector: {app: web}, ports: [{name: http, port: 80}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: web, namespace: shop}
            subsets: [{addresses: [{ip: 10.244.9.9}], ports: [{name: http, port: 80}]}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            endpoints: [{addresses: [10.244.1.1]}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-0, namespace: shop, labels: {app: web}}
            status: {podIP: 10.244.5.5, conditions: [{type: Ready, status: "True"}]}
            """, name: "mixed.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        let groups = result.snapshot.endpointGroups(namespace: "shop", service: "web")
        #expect(groups.map(\.origin) == [.endpointSlice])
        #expect(groups.flatMap(\.endpoints).flatMap(\.addresses) == [IPAddress("10.244.1.1")!])
    }

    @Test func legacyEndpointsWinOverTheSelector() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: None, selector: {app: web}}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: web, namespace: shop}
            subsets: [{addresses: [{ip: 10.244.9.9}]}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-0, namespace: shop, labels: {app: web}}
            status: {podIP: 10.244.5.5}
            """, name: "legacy.yaml")
        #expect(result.snapshot.endpointGroups(namespace: "shop", service: "web").map(\.origin) == [.endpoints])
    }

    @Test func dualStackSlicesOfOneServiceAreAllKept() {
        let result = ManifestLoader.load(text: Self.headlessWeb + """

            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-v6, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv6
            endpoints: [{addresses: ["fd00:10:244::a"]}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-v4, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            endpoints: [{addresses: [10.244.0.10]}]
            """, name: "dual.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.endpointGroups(namespace: "shop", service: "web").map(\.addressType) == [.ipv4, .ipv6])
    }

    @Test func fqdnSlicesAreSkippedBecauseDNSCannotServeThem() {
        let result = ManifestLoader.load(text: Self.headlessWeb + """

            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-fqdn, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: FQDN
            endpoints: [{addresses: [db.example.com]}]
            """, name: "fqdn.yaml")
        #expect(result.errors.isEmpty)
        #expect(result.skipped.map(\.reference.name) == ["web-fqdn"])
        #expect(result.snapshot.endpointGroups(namespace: "shop", service: "web").isEmpty)
    }
}

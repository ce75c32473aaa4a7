import ServiceRegistry
import Testing

/// A Service with a selector and no EndpointSlice or Endpoints gets its endpoints from its Pods,
/// as the endpoint controllers would have written them.
@Suite struct SelectorEndpointsTests {
    static let pods = """
        apiVersion: v1
        kind: Pod
        metadata: {name: api-b, namespace: shop, labels: {app: api}}
        spec:
          containers: [{name: api, ports: [{name: http, containerPort: 8080}, {name: grpc, containerPort: 9090}]}]
        status: {phase: Running, podIP: 10.244.1.2, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: api-a, namespace: shop, labels: {app: api}}
        spec:
          containers: [{name: api, ports: [{name: http, containerPort: 8081}]}]
        status: {phase: Running, podIP: 10.244.1.1, conditions: [{type: Ready, status: "True"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: api-c, namespace: shop, labels: {app: api}}
        spec:
          containers: [{name: api, ports: [{name: http, containerPort: 8080}, {name: grpc, containerPort: 9090}]}]
        status: {phase: Running, podIP: 10.244.1.3, conditions: [{type: Ready, status: "False"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: api-done, namespace: shop, labels: {app: api}}
        status: {phase: Succeeded, podIP: 10.244.1.4}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: api-pending, namespace: shop, labels: {app: api}}
        status: {phase: Pending}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: api-elsewhere, namespace: other, labels: {app: api}}
        status: {phase: Running, podIP: 10.244.9.9}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-0, namespace: shop, labels: {app: web}}
        status: {phase: Running, podIP: 10.244.1.5}

        """

    func groups(service: String) -> (RegistryLoadResult, [EndpointGroup]) {
        let result = ManifestLoader.load(text: Self.pods + "---\n" + service, name: "selector.yaml")
        let name = result.snapshot.services.first?.name ?? ""
        return (result, result.snapshot.endpointGroups(namespace: "shop", service: name))
    }

    @Test func matchingPodsBecomeEndpointsGroupedByResolvedPorts() throws {
        let (result, groups) = groups(service: """
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: shop}
            spec:
              clusterIP: 10.96.0.20
              selector: {app: api}
              ports:
              - {name: http, port: 80, targetPort: http}
              - {name: grpc, port: 9090, targetPort: grpc}
            """)
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(groups.allSatisfy { $0.origin == .selector && $0.object == ObjectReference(kind: "Service", namespace: "shop", name: "api") })
        // api-a has no grpc port, so it lands in a group of its own with http alone.
        #expect(groups.count == 2)
        let full = try #require(groups.first { $0.ports.count == 2 })
        #expect(full.ports == [EndpointPort(name: "http", port: 8080), EndpointPort(name: "grpc", port: 9090)])
        // api-b and api-c, by their addresses.
        #expect(full.endpoints.map(\.addresses) == [[IPAddress("10.244.1.2")!], [IPAddress("10.244.1.3")!]])
        #expect(full.endpoints.map(\.ready) == [true, false])
        let partial = try #require(groups.first { $0.ports.count == 1 })
        #expect(partial.ports == [EndpointPort(name: "http", port: 8081)])
        #expect(partial.endpoints.map(\.addresses) == [[IPAddress("10.244.1.1")!]])
        #expect(partial.addressType == .ipv4)
    }

    @Test func publishNotReadyAddressesMakesEveryPodReady() {
        let (_, groups) = groups(service: """
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: shop}
            spec:
              clusterIP: 10.96.0.20
              publishNotReadyAddresses: true
              selector: {app: api}
              ports: [{name: http, port: 80, targetPort: 8080}]
            """)
        let endpoints = groups.flatMap(\.endpoints)
        // api-a, api-b and api-c, by their addresses.
        #expect(endpoints.flatMap(\.addresses).sorted() == ["10.244.1.1", "10.244.1.2", "10.244.1.3"].map { IPAddress($0)! })
        #expect(endpoints.allSatisfy { $0.ready })
        #expect(groups.first?.ports == [EndpointPort(name: "http", port: 8080)])
    }

    @Test func anAbsentTargetPortMeansTheServicePort() {
        let (_, groups) = groups(service: """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: 10.96.0.21, selector: {app: web}, ports: [{port: 80}]}
            """)
        #expect(groups.first?.ports == [EndpointPort(port: 80)])
        #expect(groups.flatMap(\.endpoints).map(\.addresses) == [[IPAddress("10.244.1.5")!]])  // web-0
    }

    @Test func theHostnameIsUsedOnlyWhenTheSubdomainNamesTheService() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: None, selector: {app: web}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-0, namespace: shop, labels: {app: web}}
            spec: {hostname: web-0, subdomain: web}
            status: {podIP: 10.244.1.10, conditions: [{type: Ready, status: "True"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-1, namespace: shop, labels: {app: web}}
            spec: {hostname: web-1, subdomain: other}
            status: {podIP: 10.244.1.11, conditions: [{type: Ready, status: "True"}]}
            """, name: "hostnames.yaml")
        let endpoints = result.snapshot.endpointGroups(namespace: "shop", service: "web").flatMap(\.endpoints)
        #expect(endpoints.map(\.hostname) == ["web-0", nil])
        // A headless Service without ports still lists its Pods.
        #expect(result.snapshot.endpointGroups(namespace: "shop", service: "web").first?.ports == [])
    }

    @Test func dualStackPodsGiveOneGroupPerFamilyOfTheService() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata: {name: cart, namespace: shop}
            spec:
              clusterIPs: [10.96.45.7, "fd00:10:96::7"]
              selector: {app: cart}
              ports: [{name: http, port: 80}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: cart-v4, namespace: shop}
            spec: {clusterIP: 10.96.45.8, selector: {app: cart}, ports: [{name: http, port: 80}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: cart-0, namespace: shop, labels: {app: cart}}
            status: {podIPs: [{ip: 10.244.1.30}, {ip: "fd00:10:244::1e"}], conditions: [{type: Ready, status: "True"}]}
            """, name: "dual.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        let dual = result.snapshot.endpointGroups(namespace: "shop", service: "cart")
        #expect(dual.map(\.addressType) == [.ipv4, .ipv6])
        #expect(dual.map { $0.endpoints.flatMap(\.addresses) } == [[IPAddress("10.244.1.30")!], [IPAddress("fd00:10:244::1e")!]])
        #expect(result.snapshot.endpointGroups(namespace: "shop", service: "cart-v4").map(\.addressType) == [.ipv4])
    }

    @Test func servicesWithoutASelectorOrOfTypeExternalNameGetNoEndpoints() {
        let result = ManifestLoader.load(text: Self.pods + """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: manual, namespace: shop}
            spec: {clusterIP: 10.96.0.30, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ext, namespace: shop}
            spec: {type: ExternalName, externalName: api.example.com, selector: {app: api}}
            """, name: "none.yaml")
        #expect(result.snapshot.endpointGroups(namespace: "shop", service: "manual").isEmpty)
        #expect(result.snapshot.endpointGroups(namespace: "shop", service: "ext").isEmpty)
    }
}

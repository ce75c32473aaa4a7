import ServiceRegistry
import Testing

/// Pods and Namespaces: what pod records, selector endpoints and the env command need.
@Suite struct PodDecodingTests {
    @Test func aPodKeepsIdentityAddressesReadinessAndNamedPorts() throws {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Pod
            metadata:
              name: web-0
              namespace: shop
              labels: {app: web, tier: front}
            spec:
              hostname: web-0
              subdomain: web
              nodeName: node-a
              enableServiceLinks: false
              containers:
              - name: web
                ports:
                - {name: http, containerPort: 8080}
                - {name: dns, containerPort: 53, protocol: UDP}
                - {containerPort: 9000}
            status:
              phase: Running
              podIP: 10.244.1.10
              podIPs: [{ip: 10.244.1.10}, {ip: "fd00:10:244::a"}]
              conditions:
              - {type: Initialized, status: "True"}
              - {type: Ready, status: "True"}
            """, name: "pod.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        let pod = try #require(result.snapshot.pod(namespace: "shop", name: "web-0"))
        #expect(pod.labels == ["app": "web", "tier": "front"])
        #expect(pod.podIPs == [IPAddress("10.244.1.10")!, IPAddress("fd00:10:244::a")!])
        #expect(pod.hostname == "web-0" && pod.subdomain == "web")
        #expect(pod.ready && pod.phase == "Running" && pod.enableServiceLinks == false)
        #expect(pod.containerPorts == [EndpointPort(name: "http", port: 8080), EndpointPort(name: "dns", protocol: .udp, port: 53)])
        // Served Pods do not keep where they were read (`StoredPod`): only a Service's place is named later.
        #expect(pod.source == nil)
        #expect(result.snapshot.pods(withIP: IPAddress("fd00:10:244::a")!).map(\.name) == ["web-0"])
        #expect(result.summary.pods == 1)
    }

    /// The store keeps a phase as a byte: the API's five phases read back as they were written,
    /// a text it does not define reads Unknown, and none stays none.
    @Test(arguments: [
        ("Pending", "Pending"), ("Running", "Running"), ("Succeeded", "Succeeded"), ("Failed", "Failed"),
        ("Unknown", "Unknown"), ("Evicted", "Unknown"), (nil, nil),
    ] as [(String?, String?)])
    func aPodsPhaseIsKeptAsTheAPIDefinesIt(written: String?, read: String?) throws {
        let status = written.map { "status: {phase: \($0), podIP: 10.244.1.10}" } ?? "status: {podIP: 10.244.1.10}"
        let result = ManifestLoader.load(text: "apiVersion: v1\nkind: Pod\nmetadata: {name: web-0, namespace: shop}\n\(status)\n", name: "pod.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(try #require(result.snapshot.pod(namespace: "shop", name: "web-0")).phase == read)
    }

    @Test func aPodWithoutAReadyConditionIsNotReady() throws {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Pod
            metadata: {name: starting}
            status: {phase: Pending, podIP: 10.244.0.9, conditions: [{type: Ready, status: "False"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: bare}
            status: {podIP: 10.244.0.8}
            """, name: "pods.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.pods.map(\.ready) == [false, false])
        #expect(result.snapshot.pods.map(\.namespace) == ["default", "default"])
    }

    @Test func podIPMustAgreeWithPodIPs() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Pod
            metadata: {name: odd}
            status: {podIP: 10.244.0.1, podIPs: [{ip: 10.244.0.2}]}
            """, name: "odd.yaml")
        #expect(result.errors.map(\.field) == ["status.podIP"])
        #expect(result.snapshot.pods.isEmpty)
    }

    @Test func namespacesComeFromNamespaceObjectsAndFromEveryObjectsNamespace() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Namespace
            metadata: {name: quiet}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: shop}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d, namespace: tools}
            """, name: "ns.yaml")
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.namespaces == ["quiet", "shop", "tools"])
        #expect(result.summary.namespaces == 3)
    }
}

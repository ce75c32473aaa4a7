import ServiceRegistry
import Testing

/// `v1 Service` objects as kubectl writes them become the model the DNS zones read.
@Suite struct ServiceDecodingTests {
    func load(_ yaml: String) -> RegistryLoadResult {
        ManifestLoader.load(text: yaml, name: "test.yaml")
    }

    @Test func kubectlCreateServiceOutputLoadsIntoTheDefaultNamespaceWithAnAllocatedClusterIP() throws {
        let result = ManifestLoader.load(paths: [TestPaths.fixture("kubectl-create-service.yaml")])
        #expect(result.errors.isEmpty, "\(result.report)")
        let web = try #require(result.snapshot.service(namespace: "default", name: "web"))
        #expect(web.ports == [ServicePort(name: "80-8080", protocol: .tcp, port: 80, targetPort: .number(8080))])
        #expect(web.selector == ["app": "web"])
        #expect(web.clusterIPAllocated)
        #expect(web.clusterIPs.count == 1 && IPNetwork("10.96.0.0/12")!.contains(web.clusterIPs[0]))
    }

    @Test func everyServiceTypeIsRead() throws {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: plain, namespace: shop}
            spec:
              clusterIP: 10.96.0.10
              ports: [{name: http, port: 80}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: np, namespace: shop}
            spec:
              type: NodePort
              clusterIP: 10.96.0.11
              ports: [{name: http, port: 80, nodePort: 30080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: lb, namespace: shop}
            spec:
              type: LoadBalancer
              clusterIP: 10.96.0.12
              externalIPs: [198.51.100.7]
              ports: [{name: http, port: 80}]
            status:
              loadBalancer:
                ingress:
                - ip: 203.0.113.10
                - hostname: lb-1234.elb.example.com
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ext, namespace: shop}
            spec:
              type: ExternalName
              externalName: db.example.com.
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: headless, namespace: shop}
            spec:
              clusterIP: None
            """)
        #expect(result.errors.isEmpty, "\(result.report)")
        let snapshot = result.snapshot
        #expect(snapshot.service(namespace: "shop", name: "plain")?.type == .clusterIP)
        #expect(snapshot.service(namespace: "shop", name: "np")?.ports.first?.nodePort == 30080)
        let lb = try #require(snapshot.service(namespace: "shop", name: "lb"))
        #expect(lb.type == .loadBalancer)
        #expect(lb.externalIPs == [IPAddress("198.51.100.7")!])
        #expect(lb.loadBalancerIngress == [.ip(IPAddress("203.0.113.10")!), .hostname("lb-1234.elb.example.com")])
        let ext = try #require(snapshot.service(namespace: "shop", name: "ext"))
        #expect(ext.type == .externalName && ext.externalName == "db.example.com")
        #expect(ext.clusterIPs.isEmpty && ext.primaryClusterIP == nil && !ext.clusterIPAllocated)
        let headless = try #require(snapshot.service(namespace: "shop", name: "headless"))
        #expect(headless.isHeadless && headless.clusterIPs.isEmpty && headless.ports.isEmpty)
        #expect(result.summary.clusterIPServices == 1 && result.summary.nodePortServices == 1)
        #expect(result.summary.loadBalancerServices == 1 && result.summary.externalNameServices == 1)
        #expect(result.summary.headlessServices == 1)
    }

    @Test func dualStackClusterIPsKeepTheirOrder() throws {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: cart, namespace: shop}
            spec:
              clusterIP: fd00:10:96::7
              clusterIPs: [fd00:10:96::7, 10.96.45.7]
              ipFamilyPolicy: RequireDualStack
              ports: [{port: 80}]
            """)
        #expect(result.errors.isEmpty, "\(result.report)")
        let cart = try #require(result.snapshot.service(namespace: "shop", name: "cart"))
        #expect(cart.clusterIPs == [IPAddress("fd00:10:96::7")!, IPAddress("10.96.45.7")!])
        #expect(!cart.clusterIPAllocated)
    }

    @Test func portsDefaultToTCPAndTargetPortIsANumberANameOrAbsent() throws {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: api}
            spec:
              clusterIP: 10.96.0.20
              ports:
              - {name: http, port: 80, targetPort: http}
              - {name: grpc, port: 9090, targetPort: 9091}
              - {name: dns, port: 53, protocol: UDP}
              - {name: sig, port: 3868, protocol: SCTP}
              publishNotReadyAddresses: true
            """)
        #expect(result.errors.isEmpty, "\(result.report)")
        let api = try #require(result.snapshot.service(namespace: "default", name: "api"))
        #expect(api.ports == [
            ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: .name("http")),
            ServicePort(name: "grpc", protocol: .tcp, port: 9090, targetPort: .number(9091)),
            ServicePort(name: "dns", protocol: .udp, port: 53),
            ServicePort(name: "sig", protocol: .sctp, port: 3868),
        ])
        #expect(api.publishNotReadyAddresses)
    }

    @Test func aSingleUnnamedPortIsAllowed() throws {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: metrics}
            spec: {clusterIP: 10.96.0.53, ports: [{port: 8125, protocol: UDP}]}
            """)
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.service(namespace: "default", name: "metrics")?.ports == [ServicePort(protocol: .udp, port: 8125)])
    }

    @Test func unknownFieldsNullTimestampsAndEmptyStatusAreFine() {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata:
              creationTimestamp: null
              annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
              name: web
              someFutureField: [1, 2]
            spec:
              clusterIP: 10.96.0.9
              sessionAffinity: None
              trafficDistribution: PreferClose
              ports: [{port: 80, appProtocol: http}]
            status: {loadBalancer: {}}
            """)
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.services.count == 1)
    }

    @Test func aKnativeServiceIsNotAKubernetesService() {
        let result = load("""
            apiVersion: serving.knative.dev/v1
            kind: Service
            metadata: {name: hello}
            spec: {template: {spec: {containers: [{image: hello}]}}}
            """)
        #expect(result.errors.isEmpty)
        #expect(result.snapshot.services.isEmpty)
        #expect(result.skipped.map(\.apiVersion) == ["serving.knative.dev/v1"])
    }
}

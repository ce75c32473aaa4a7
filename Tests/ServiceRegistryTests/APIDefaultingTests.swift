@testable import ServiceRegistry
import Testing

/// What the API server accepts, with its defaulting, is served without complaint; what it rejects
/// but the server can still interpret is served with a warning; what the server cannot use is an
/// error that leaves the object out.
@Suite struct APIDefaultingTests {
    func load(_ yaml: String) -> RegistryLoadResult {
        ManifestLoader.load(text: yaml, name: "zones/shop.yaml")
    }

    // MARK: Service names

    @Test(arguments: ["1kubernetes", "8080-web", "0"])
    func aDigitLeadingServiceNameIsServed(name: String) throws {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: "\(name)", namespace: shop}
            spec: {clusterIP: 10.96.0.7, ports: [{port: 443}]}
            """)
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.isValid(strict: true))
        let service = try #require(result.snapshot.service(namespace: "shop", name: name))
        #expect(service.clusterIPs == [IPAddress("10.96.0.7")!])
    }

    @Test(arguments: ["-web", "web-", "Web", "web.shop", "web_1", String(repeating: "a", count: 64)])
    func aServiceNameThatIsNotAnRFC1123LabelIsAnError(name: String) {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: "\(name)", namespace: shop}
            spec: {clusterIP: 10.96.0.7, ports: [{port: 443}]}
            """)
        #expect(result.errors.map(\.code) == [.invalidDNSLabel])
        #expect(result.errors.map(\.severity) == [.error])
        #expect(result.errors.first?.field == "metadata.name")
        #expect(result.snapshot.services.isEmpty)
    }

    // MARK: Port protocols

    /// `protocol: ""` and no protocol at all are TCP on every kind of port, as the API defaults them.
    @Test(arguments: ["protocol: \"\", ", "protocol: null, ", ""])
    func anEmptyOrAbsentProtocolIsTCP(protocolField: String) throws {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              clusterIP: 10.96.0.8
              ports: [{name: http, \(protocolField)port: 80}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-abc, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            endpoints: [{addresses: [10.244.0.5]}]
            ports: [{name: http, \(protocolField)port: 8080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: legacy, namespace: shop}
            spec: {clusterIP: 10.96.0.9, ports: [{name: http, \(protocolField)port: 80}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: legacy, namespace: shop}
            subsets: [{addresses: [{ip: 10.244.0.6}], ports: [{name: http, \(protocolField)port: 8080}]}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-1, namespace: shop}
            spec: {containers: [{name: web, ports: [{name: http, \(protocolField)containerPort: 8080}]}]}
            """)
        #expect(result.errors.isEmpty, "\(result.report)")
        let snapshot = result.snapshot
        #expect(snapshot.service(namespace: "shop", name: "web")?.ports.map(\.protocol) == [.tcp])
        #expect(snapshot.endpointGroups(namespace: "shop", service: "web").flatMap(\.ports).map(\.protocol) == [.tcp])
        #expect(snapshot.endpointGroups(namespace: "shop", service: "legacy").flatMap(\.ports).map(\.protocol) == [.tcp])
        #expect(snapshot.pod(namespace: "shop", name: "web-1")?.containerPorts.map(\.protocol) == [.tcp])
    }

    @Test func anUnknownProtocolIsStillAnError() {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: 10.96.0.8, ports: [{port: 80, protocol: tcp}]}
            """)
        #expect(result.errors.map(\.code) == [.invalidValue])
        #expect(!result.isValid)
        #expect(result.snapshot.services.isEmpty)
    }

    // MARK: IP families

    @Test(arguments: [
        (clusterIPs: ["10.96.0.10"], families: [IPFamily.ipv4]),
        (clusterIPs: ["fd00:10:96::10"], families: [.ipv6]),
        (clusterIPs: ["10.96.0.10", "fd00:10:96::10"], families: [.ipv4, .ipv6]),
        (clusterIPs: ["fd00:10:96::10", "10.96.0.10"], families: [.ipv6, .ipv4]),
    ])
    func absentIPFamiliesAreDerivedFromTheClusterIPs(clusterIPs: [String], families: [IPFamily]) throws {
        let listed = clusterIPs.map { "\"\($0)\"" }.joined(separator: ", ")
        let yaml = """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              clusterIP: "\(clusterIPs[0])"
              clusterIPs: [\(listed)]
              ports: [{port: 80}]
            """
        let result = load(yaml)
        #expect(result.errors.isEmpty, "\(result.report)")
        let service = try #require(result.snapshot.service(namespace: "shop", name: "web"))
        #expect(service.clusterIPs == clusterIPs.map { IPAddress($0)! })
        #expect(!service.clusterIPAllocated)
        let draft = try #require(Self.draft(yaml))
        #expect(draft.ipFamilies == families)
        #expect(draft.wantsDualStack == (families.count == 2))
        #expect(draft.requiresDualStack == (families.count == 2))
    }

    /// The API server's `initIPFamilyFields`, on drafts: policy absent → RequireDualStack for two
    /// families or two ClusterIPs, else SingleStack; unlisted families come from the ClusterIPs.
    @Test func theIPFamilyPolicyIsDefaultedAsTheAPIServerDoes() {
        let v4 = IPAddress("10.96.0.10")!, v6 = IPAddress("fd00:10:96::10")!
        func service(_ addresses: [IPAddress]) -> Service {
            var service = Service(name: "web", namespace: "shop")
            service.clusterIPs = addresses
            return service
        }
        let single = ServiceDraft(service: service([v4]), listedFamilies: [], policy: nil)
        #expect(single.ipFamilies == [.ipv4] && !single.wantsDualStack && !single.needsAllocation)
        let dual = ServiceDraft(service: service([v6, v4]), listedFamilies: [.ipv6], policy: nil)
        #expect(dual.ipFamilies == [.ipv6, .ipv4] && dual.requiresDualStack)
        let listedTwo = ServiceDraft(service: service([]), listedFamilies: [.ipv6, .ipv4], policy: nil)
        #expect(listedTwo.ipFamilies == [.ipv6, .ipv4] && listedTwo.requiresDualStack && listedTwo.needsAllocation)
        let prefer = ServiceDraft(service: service([v4]), listedFamilies: [], policy: .preferDualStack)
        #expect(prefer.wantsDualStack && !prefer.requiresDualStack && prefer.needsAllocation)
        let none = ServiceDraft(service: service([]), listedFamilies: [], policy: nil)
        #expect(none.ipFamilies.isEmpty && !none.wantsDualStack && none.needsAllocation)
    }

    @Test func anIPFamilyThatContradictsItsClusterIPIsAWarningAndTheAddressDecides() throws {
        let yaml = """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              clusterIP: 10.96.0.10
              ipFamilies: [IPv6]
              ports: [{port: 80}]
            """
        let result = load(yaml)
        #expect(result.errors.map(\.code) == [.invalidValue])
        #expect(result.errors.map(\.severity) == [.warning])
        #expect(result.errors.first?.field == "spec.ipFamilies[0]")
        #expect(result.isValid && !result.isValid(strict: true))
        #expect(result.snapshot.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.10")!])
        #expect(Self.draft(yaml)?.ipFamilies == [.ipv4])
    }

    @Test func anEmptyIPFamilyPolicyIsAWarningAndMeansAbsent() {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: 10.96.0.10, ipFamilyPolicy: "", ports: [{port: 80}]}
            """)
        #expect(result.warnings.map(\.field) == ["spec.ipFamilyPolicy"])
        #expect(result.hardErrors.isEmpty)
        #expect(result.snapshot.service(namespace: "shop", name: "web") != nil)
    }

    // MARK: Unnamed ports

    @Test func anUnnamedPortAmongSeveralIsAWarningAndTheServiceKeepsBothPorts() throws {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              clusterIP: 10.96.0.4
              ports:
              - {port: 80}
              - {name: metrics, port: 9090}
            """)
        let warning = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(warning.code == .missingField && warning.severity == .warning)
        #expect(warning.description.hasPrefix("zones/shop.yaml:7: warning: Service shop/web: spec.ports[0].name: "))
        #expect(result.warnings.count == 1 && result.hardErrors.isEmpty)
        #expect(result.isValid)
        #expect(!result.isValid(strict: true))
        #expect(result.summary.errors == 0 && result.summary.warnings == 1)
        #expect(result.summary.description.hasSuffix("\n0 errors, 1 warning"))
        let web = try #require(result.snapshot.service(namespace: "shop", name: "web"))
        #expect(web.ports == [ServicePort(protocol: .tcp, port: 80), ServicePort(name: "metrics", protocol: .tcp, port: 9090)])
    }

    @Test func warningsAndErrorsAreCountedApartInTheSummary() {
        let result = load("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              clusterIP: 10.96.0.4
              ports: [{port: 80}, {port: 81}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: bad, namespace: shop}
            spec: {clusterIP: 10.96.0.300, ports: [{port: 80}]}
            """)
        #expect(result.errors.map(\.severity) == [.warning, .warning, .error])
        #expect(result.summary.errors == 1 && result.summary.warnings == 2)
        #expect(result.summary.description.hasSuffix("\n1 error, 2 warnings"))
        #expect(!result.isValid)
        #expect(result.snapshot.services.map(\.name) == ["web"])
    }

    // MARK: Rejected objects

    @Test func aRejectedObjectWithAKnownNameIsListedAsRejected() {
        let decoder = Self.decode("""
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {clusterIP: 10.96.0.300, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: fine, namespace: shop}
            spec:
              clusterIP: 10.96.0.5
              ports: [{port: 80}, {name: b, port: 81}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {namespace: shop}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: web, namespace: [shop]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: orphan, namespace: shop}
            addressType: IPv4
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: Shop}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec: {replicas: many}
            """)
        #expect(decoder.rejected == [
            RejectedObject(reference: ObjectReference(kind: "Service", namespace: "shop", name: "web"), location: SourceLocation(file: "zones/shop.yaml", line: 1)),
            RejectedObject(reference: ObjectReference(kind: "EndpointSlice", namespace: "shop", name: "orphan"), location: SourceLocation(file: "zones/shop.yaml", line: 21)),
            RejectedObject(reference: ObjectReference(kind: "Namespace", namespace: "", name: "Shop"), location: SourceLocation(file: "zones/shop.yaml", line: 26)),
        ])
        #expect(decoder.rejected.first?.description == "zones/shop.yaml:1: rejected Service shop/web")
    }

    // MARK: Helpers

    static func decode(_ yaml: String, file: String = "zones/shop.yaml") -> ObjectDecoder {
        var decoder = ObjectDecoder()
        let (documents, _) = ManifestParser.parse(text: yaml, file: file)
        for document in documents { decoder.decode(document: document, file: file) }
        return decoder
    }

    /// What `ServiceDecoder` makes of the first document, a Service: the draft allocation reads.
    static func draft(_ yaml: String) -> ServiceDraft? {
        let (documents, _) = ManifestParser.parse(text: yaml, file: "zones/shop.yaml")
        guard let node = documents.first else { return nil }
        let reader = ObjectReader(file: "zones/shop.yaml", objectLine: node.line)
        return ServiceDecoder.decode(node, metadata: ObjectMetadata(name: "web", namespace: "shop", labelsNode: nil), reader: reader)
    }
}

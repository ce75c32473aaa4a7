import ServiceRegistry
import Testing

/// Services without a ClusterIP (as `kubectl create service --dry-run` prints them) get one,
/// deterministically, from the service CIDR; two Services may never share one.
@Suite struct ClusterIPAllocationTests {
    static func service(_ name: String, namespace: String = "shop", spec: String = "ports: [{port: 80}]") -> String {
        """
        apiVersion: v1
        kind: Service
        metadata: {name: \(name), namespace: \(namespace)}
        spec: {\(spec)}

        """
    }

    static func load(_ documents: [String], options: RegistryOptions = .init()) -> RegistryLoadResult {
        ManifestLoader.load(text: documents.joined(separator: "---\n"), name: "alloc.yaml", options: options)
    }

    @Test func allocationIsTheSameWhateverTheFileOrder() {
        let documents = (0..<40).map { Self.service("svc-\($0)") }
        let forward = Self.load(documents)
        let backward = Self.load(documents.reversed())
        #expect(forward.errors.isEmpty)
        #expect(forward.snapshot.services.map(\.clusterIPs) == backward.snapshot.services.map(\.clusterIPs))
        let all = forward.snapshot.services.flatMap(\.clusterIPs)
        #expect(Set(all).count == 40, "every allocated address is distinct")
        #expect(forward.snapshot.services.allSatisfy { $0.clusterIPAllocated })
        #expect(forward.summary.allocatedClusterIPs == 40)
    }

    @Test func allocatedAddressesStayInTheCIDRAndSkipNetworkAndBroadcast() {
        let network = IPNetwork("10.96.0.0/29")!
        let documents = (0..<6).map { Self.service("svc-\($0)") }
        let result = Self.load(documents, options: RegistryOptions(serviceCIDRs: [network]))
        #expect(result.errors.isEmpty, "\(result.report)")
        let addresses = Set(result.snapshot.services.flatMap(\.clusterIPs))
        #expect(addresses == Set((1...6).map { IPAddress("10.96.0.\($0)")! }))
    }

    @Test func addressesClaimedByAnyManifestAreNeverAllocated() {
        // A /30 has two usable addresses; one is claimed explicitly (even by a broken Service).
        let network = IPNetwork("10.96.0.0/30")!
        let result = Self.load([
            Self.service("claimer", spec: "clusterIP: 10.96.0.1, ports: [{port: 99999}]"),
            Self.service("fresh"),
        ], options: RegistryOptions(serviceCIDRs: [network]))
        #expect(result.errors.map(\.code) == [.portOutOfRange])
        #expect(result.snapshot.service(namespace: "shop", name: "fresh")?.clusterIPs == [IPAddress("10.96.0.2")!])
    }

    @Test func aFullRangeIsAnError() {
        let result = Self.load([Self.service("a"), Self.service("b"), Self.service("c")],
                               options: RegistryOptions(serviceCIDRs: [IPNetwork("10.96.0.0/30")!]))
        #expect(result.errors.map(\.code) == [.clusterIPClash])
        #expect(result.snapshot.services.count == 2)
    }

    /// Allocation goes by namespace and name, whatever order the objects were read or are held in:
    /// in a range one address short, the last Service by name is the one left without.
    @Test func aRangeOneShortLeavesOutTheLastServiceByName() {
        let documents = (0..<7).map { Self.service("svc-\($0)") }
        for order in [documents, documents.reversed(), [documents[3]] + documents.filter { $0 != documents[3] }] {
            let result = Self.load(order, options: RegistryOptions(serviceCIDRs: [IPNetwork("10.96.0.0/29")!]))
            #expect(result.errors.map(\.code) == [.clusterIPClash])
            #expect(result.errors.map(\.object?.name) == ["svc-6"])
            #expect(result.snapshot.services.map(\.name) == (0..<6).map { "svc-\($0)" })
        }
    }

    @Test func headlessAndExternalNameServicesGetNoAddress() {
        let result = Self.load([
            Self.service("headless", spec: "clusterIP: None"),
            Self.service("ext", spec: "type: ExternalName, externalName: example.com"),
        ])
        #expect(result.snapshot.services.allSatisfy { $0.clusterIPs.isEmpty && !$0.clusterIPAllocated })
    }

    @Test func dualStackPoliciesAllocateFromBothFamilies() throws {
        let options = RegistryOptions(serviceCIDRs: [IPNetwork("10.96.0.0/12")!, IPNetwork("fd00:10:96::/112")!])
        let result = Self.load([
            Self.service("require", spec: "ipFamilyPolicy: RequireDualStack, ports: [{port: 80}]"),
            Self.service("prefer6", spec: "ipFamilyPolicy: PreferDualStack, ipFamilies: [IPv6, IPv4], ports: [{port: 80}]"),
            Self.service("single", spec: "ports: [{port: 80}]"),
            Self.service("half", spec: "clusterIP: 10.96.5.5, ipFamilyPolicy: PreferDualStack, ports: [{port: 80}]"),
        ], options: options)
        #expect(result.errors.isEmpty, "\(result.report)")
        let snapshot = result.snapshot
        let require = try #require(snapshot.service(namespace: "shop", name: "require"))
        #expect(require.clusterIPs.map(\.isIPv4) == [true, false])
        #expect(options.serviceCIDRs[0].contains(require.clusterIPs[0]) && options.serviceCIDRs[1].contains(require.clusterIPs[1]))
        #expect(snapshot.service(namespace: "shop", name: "prefer6")?.clusterIPs.map(\.isIPv4) == [false, true])
        #expect(snapshot.service(namespace: "shop", name: "single")?.clusterIPs.map(\.isIPv4) == [true])
        let half = try #require(snapshot.service(namespace: "shop", name: "half"))
        #expect(half.clusterIPs.first == IPAddress("10.96.5.5")! && half.clusterIPs.count == 2 && half.clusterIPAllocated)
    }

    @Test func requireDualStackWithoutAnIPv6RangeIsAnError() {
        let result = Self.load([Self.service("require", spec: "ipFamilyPolicy: RequireDualStack, ports: [{port: 80}]")])
        #expect(result.errors.map(\.code) == [.invalidValue])
        #expect(result.errors.first?.field == "spec.ipFamilyPolicy")
        let prefer = Self.load([Self.service("prefer", spec: "ipFamilyPolicy: PreferDualStack, ports: [{port: 80}]")])
        #expect(prefer.errors.isEmpty)
        #expect(prefer.snapshot.services.first?.clusterIPs.count == 1)
    }

    @Test func anIPv6OnlyRangeAllocatesIPv6() {
        let result = Self.load([Self.service("web")], options: RegistryOptions(serviceCIDRs: [IPNetwork("fd00:10:96::/112")!]))
        #expect(result.errors.isEmpty, "\(result.report)")
        #expect(result.snapshot.services.first.map { $0.clusterIPs.map(\.isIPv6) } == [true])
    }

    @Test func twoServicesClaimingOneClusterIPIsAClashNamingBoth() throws {
        let result = ManifestLoader.load(texts: [
            (name: "b.yaml", text: Self.service("first", spec: "clusterIP: 10.96.0.10, ports: [{port: 80}]")),
            (name: "a.yaml", text: Self.service("second", spec: "clusterIP: 10.96.0.10, ports: [{port: 80}]")),
        ])
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(error.code == .clusterIPClash)
        #expect(error.object == ObjectReference(kind: "Service", namespace: "shop", name: "second"))
        #expect(error.description == "a.yaml:1: Service shop/second: spec.clusterIP: 10.96.0.10 is already the ClusterIP of Service shop/first (b.yaml:1); two Services cannot share a ClusterIP")
        #expect(result.snapshot.services.map(\.name) == ["first"])
        #expect(result.snapshot.services(withClusterIP: IPAddress("10.96.0.10")!).map(\.name) == ["first"])
    }
}

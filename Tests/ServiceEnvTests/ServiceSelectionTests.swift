import ServiceEnv
import ServiceRegistry
import Testing

/// Which Services a pod gets variables for (`getServiceEnvVarMap`), and in which order.
@Suite struct ServiceSelectionTests {
    let snapshot = Fixtures.snapshot(services: [
        Fixtures.masterService,
        Fixtures.service("web", namespace: "default", clusterIPs: ["10.96.0.80"]),
        Fixtures.service("web", namespace: "shop", clusterIPs: ["10.96.1.80"]),
        Fixtures.service("cart", namespace: "shop", clusterIPs: ["10.96.1.81"]),
        Fixtures.service("api", namespace: "shop", clusterIPs: ["10.96.1.82"]),
        Fixtures.service("db", namespace: "shop", clusterIPs: [], headless: true),
        Fixtures.service("payments", namespace: "shop", clusterIPs: [], type: .externalName, externalName: "pay.example.com"),
        Fixtures.service("pending", namespace: "shop", clusterIPs: []),
        Fixtures.service("kubernetes", namespace: "staging", clusterIPs: ["10.96.2.1"]),
        Fixtures.service("queue", namespace: "staging", clusterIPs: ["10.96.2.2"]),
    ])

    private func selected(_ namespace: String, links: Bool) -> [String] {
        ServiceSelection.services(in: snapshot, podNamespace: namespace, enableServiceLinks: links)
            .map { "\($0.namespace)/\($0.name)" }
    }

    @Test func linksOnGiveTheMasterServiceAndThePodsNamespaceSortedByName() {
        #expect(selected("shop", links: true) == ["shop/api", "shop/cart", "default/kubernetes", "shop/web"])
    }

    @Test func linksOffGiveOnlyTheMasterService() {
        #expect(selected("shop", links: false) == ["default/kubernetes"])
    }

    @Test func headlessExternalNameAndUnallocatedServicesAreExcluded() {
        let names = selected("shop", links: true)
        #expect(!names.contains("shop/db") && !names.contains("shop/payments") && !names.contains("shop/pending"))
    }

    @Test func servicesOfOtherNamespacesAreNeverIncluded() {
        #expect(!selected("shop", links: true).contains { $0.hasPrefix("staging/") })
        #expect(!selected("shop", links: true).contains("default/web"))
    }

    @Test func thePodsOwnKubernetesServiceReplacesTheMasterWhenLinksAreOn() {
        #expect(selected("staging", links: true) == ["staging/kubernetes", "staging/queue"])
        let environment = ServiceEnvironment(snapshot: snapshot, namespace: "staging", enableServiceLinks: true)
        #expect(environment.variables["KUBERNETES_SERVICE_HOST"] == "10.96.2.1")
        #expect(environment.collisions.isEmpty)
    }

    @Test func theMasterServiceStaysWhenLinksAreOffEvenIfThePodsNamespaceHasItsOwn() {
        #expect(selected("staging", links: false) == ["default/kubernetes"])
        let environment = ServiceEnvironment(snapshot: snapshot, namespace: "staging", enableServiceLinks: false)
        #expect(environment.variables == variables([
            "KUBERNETES_SERVICE_HOST": "10.96.0.1",
            "KUBERNETES_SERVICE_PORT": "443",
            "KUBERNETES_SERVICE_PORT_HTTPS": "443",
            "KUBERNETES_PORT": "tcp://10.96.0.1:443",
            "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
            "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
            "KUBERNETES_PORT_443_TCP_PORT": "443",
            "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
        ]))
    }

    @Test func aPodInDefaultGetsTheMasterServiceOnceAndDefaultsOtherServices() {
        #expect(selected("default", links: true) == ["default/kubernetes", "default/web"])
        #expect(selected("default", links: false) == ["default/kubernetes"])
    }

    @Test func aRegistryWithoutTheMasterServiceGivesOnlyTheNamespacesServices() {
        let bare = Fixtures.snapshot(services: [Fixtures.service("web")])
        #expect(ServiceSelection.services(in: bare, podNamespace: "shop", enableServiceLinks: true).map(\.name) == ["web"])
        #expect(ServiceSelection.services(in: bare, podNamespace: "shop", enableServiceLinks: false).isEmpty)
    }

    @Test func aHeadlessMasterServiceIsExcludedToo() {
        let headlessMaster = Fixtures.snapshot(services: [Fixtures.service("kubernetes", namespace: "default", clusterIPs: [], headless: true)])
        #expect(ServiceSelection.services(in: headlessMaster, podNamespace: "shop", enableServiceLinks: false).isEmpty)
    }

    @Test func theOrderIsByServiceNameWhateverTheInputOrder() {
        let services = ["zeta", "alpha", "mid-1", "mid", "beta"].map { Fixtures.service($0) }
        let reversed = Fixtures.snapshot(services: services.reversed())
        let forward = Fixtures.snapshot(services: services)
        let expected = ["alpha", "beta", "mid", "mid-1", "zeta"]
        #expect(ServiceSelection.services(in: reversed, podNamespace: "shop", enableServiceLinks: true).map(\.name) == expected)
        #expect(ServiceSelection.services(in: forward, podNamespace: "shop", enableServiceLinks: true).map(\.name) == expected)
    }

    @Test func blocksFollowServiceOrderInTheEnvironment() {
        let environment = ServiceEnvironment(snapshot: snapshot, namespace: "shop")
        let hosts = environment.variables.names.filter { $0.hasSuffix("_SERVICE_HOST") }
        #expect(hosts == ["API_SERVICE_HOST", "CART_SERVICE_HOST", "KUBERNETES_SERVICE_HOST", "WEB_SERVICE_HOST"])
        #expect(environment.variables.count == 7 + 7 + 8 + 7)
    }
}

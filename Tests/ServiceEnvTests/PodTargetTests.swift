import ServiceEnv
import ServiceRegistry
import Testing

/// `--namespace`, `--pod` and `--no-service-links` resolved against the registry.
@Suite struct PodTargetTests {
    let snapshot = Fixtures.snapshot(
        services: [Fixtures.masterService, Fixtures.service("web")],
        pods: [
            Pod(name: "web-0", namespace: "shop"),
            Pod(name: "batch", namespace: "shop", enableServiceLinks: false),
            Pod(name: "linked", namespace: "shop", enableServiceLinks: true),
            Pod(name: "twin", namespace: "shop"),
            Pod(name: "twin", namespace: "staging"),
        ],
        namespaces: ["empty"]
    )

    @Test func noNamespaceMeansDefault() throws {
        #expect(try PodTarget.resolve(in: snapshot, namespace: nil, podName: nil, serviceLinksDisabled: false)
            == PodTarget(namespace: "default", enableServiceLinks: true))
    }

    @Test func aNamespaceWithoutObjectsButDeclaredExists() throws {
        #expect(try PodTarget.resolve(in: snapshot, namespace: "empty", podName: nil, serviceLinksDisabled: true)
            == PodTarget(namespace: "empty", enableServiceLinks: false))
    }

    @Test func anUnknownNamespaceIsAnErrorListingTheNamespacesThatExist() {
        #expect {
            try PodTarget.resolve(in: snapshot, namespace: "shpo", podName: nil, serviceLinksDisabled: false)
        } throws: { error in
            let error = error as? ServiceEnvError
            return error?.code == .unknownNamespace
                && error?.reason == "namespace 'shpo' does not exist; namespaces: default, empty, shop, staging"
        }
    }

    @Test(arguments: [
        ("web-0", true),
        ("batch", false),
        ("linked", true),
    ])
    func aPodGivesItsNamespaceAndServiceLinks(pod: String, links: Bool) throws {
        let target = try PodTarget.resolve(in: snapshot, namespace: nil, podName: pod, serviceLinksDisabled: false)
        #expect(target == PodTarget(namespace: "shop", enableServiceLinks: links, pod: ObjectReference(kind: "Pod", namespace: "shop", name: pod)))
    }

    @Test func noServiceLinksOverridesAPodThatEnablesThem() throws {
        let target = try PodTarget.resolve(in: snapshot, namespace: "shop", podName: "linked", serviceLinksDisabled: true)
        #expect(target.enableServiceLinks == false)
    }

    @Test func aPodIsLookedUpInTheGivenNamespace() throws {
        let target = try PodTarget.resolve(in: snapshot, namespace: "staging", podName: "twin", serviceLinksDisabled: false)
        #expect(target.namespace == "staging")
    }

    @Test func aPodNameInSeveralNamespacesNeedsANamespace() {
        #expect {
            try PodTarget.resolve(in: snapshot, namespace: nil, podName: "twin", serviceLinksDisabled: false)
        } throws: { ($0 as? ServiceEnvError)?.code == .ambiguousPod }
    }

    @Test(arguments: [(String?.none, "web-1"), ("staging", "web-0"), ("shop", "nope")])
    func aPodNameNamingNoPodIsAnError(namespace: String?, pod: String) {
        #expect {
            try PodTarget.resolve(in: snapshot, namespace: namespace, podName: pod, serviceLinksDisabled: false)
        } throws: { ($0 as? ServiceEnvError)?.code == .podNotFound }
    }

    @Test func aMissingPodErrorNamesThePodsOfTheNamespace() {
        #expect {
            try PodTarget.resolve(in: snapshot, namespace: "shop", podName: "web-1", serviceLinksDisabled: false)
        } throws: {
            ($0 as? ServiceEnvError)?.reason == "no pod named 'web-1' in namespace 'shop'; pods: batch, linked, twin, web-0"
        }
    }

    @Test func aPodInAnUnknownNamespaceReportsTheNamespace() {
        #expect {
            try PodTarget.resolve(in: snapshot, namespace: "nowhere", podName: "web-0", serviceLinksDisabled: false)
        } throws: { ($0 as? ServiceEnvError)?.code == .unknownNamespace }
    }
}

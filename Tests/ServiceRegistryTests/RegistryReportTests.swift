import ServiceRegistry
import Testing

/// What `clusterdns check` (and `env` on a broken registry) prints.
@Suite struct RegistryReportTests {
    @Test func theSummaryCountsServicesByTypeEndpointsPodsNamespacesAndFiles() {
        let result = ManifestLoader.load(paths: [TestPaths.exampleCluster.path])
        let summary = result.summary
        #expect(summary.clusterIPServices == 4)
        #expect(summary.nodePortServices == 1)
        #expect(summary.loadBalancerServices == 1)
        #expect(summary.externalNameServices == 2)
        #expect(summary.headlessServices == 4)
        #expect(summary.services == 12)
        #expect(summary.pods == 10)
        #expect(summary.namespaces == 3)
        #expect(summary.files == 3)
        #expect(summary.readyEndpoints > 0 && summary.notReadyEndpoints > 0)
        #expect(summary.description.split(separator: "\n").first == "12 services: 4 ClusterIP, 1 NodePort, 1 LoadBalancer, 2 ExternalName, 4 headless")
        #expect(summary.description.hasSuffix("registry is valid"))
    }

    @Test func theReportListsEveryErrorThenTheSummary() {
        let result = ManifestLoader.load(text: """
            apiVersion: v1
            kind: Service
            metadata: {name: a}
            spec: {clusterIP: 1.2.3, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: b}
            spec: {clusterIP: None, ports: [{port: 0}]}
            """, name: "bad.yaml")
        let lines = result.report.split(separator: "\n").map(String.init)
        #expect(result.errorLines.count == 2)
        #expect(Array(lines.prefix(2)) == result.errorLines)
        #expect(lines[0].hasPrefix("bad.yaml:4: Service default/a: spec.clusterIP: "))
        #expect(lines[1] == "bad.yaml:9: Service default/b: spec.ports[0].port: 0 is out of range (expected 1-65535)")
        #expect(lines.last == "2 errors")
        #expect(!result.isValid)
    }
}

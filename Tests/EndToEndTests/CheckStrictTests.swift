import Foundation
import Testing

/// `clusterdns check` on a registry the API server would reject in a way ClusterDNS can still
/// serve: plain `check` prints the warning and passes, `check --strict` fails on it.
@Suite struct CheckStrictTests {
    /// An unnamed port beside a named one: the API server requires names on every port then.
    private static let manifest = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          clusterIP: 10.96.0.4
          ports:
          - {port: 80}
          - {name: metrics, port: 9090}

        """

    @Test func plainCheckPrintsTheWarningAndPasses() throws {
        let registry = try makeRegistry(["web.yaml": Self.manifest])
        defer { try? FileManager.default.removeItem(at: registry) }
        let result = try run(BuiltProducts.clusterdns, ["check", registry.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("web.yaml:7: warning: Service shop/web: spec.ports[0].name: "), "\(result.stderr)")
        #expect(result.stdout.hasPrefix("1 service: 1 ClusterIP"), "\(result.stdout)")
        #expect(result.stdout.hasSuffix("0 errors, 1 warning\n"), "\(result.stdout)")
    }

    @Test func strictCheckFailsOnTheWarning() throws {
        let registry = try makeRegistry(["web.yaml": Self.manifest])
        defer { try? FileManager.default.removeItem(at: registry) }
        let result = try run(BuiltProducts.clusterdns, ["check", "--strict", registry.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("warning: Service shop/web: spec.ports[0].name"), "\(result.stderr)")
        #expect(result.stdout.hasSuffix("0 errors, 1 warning\n"), "\(result.stdout)")
    }

    @Test func strictCheckPassesACleanRegistryAndPlainCheckStillFailsOnAnError() throws {
        let clean = try run(BuiltProducts.clusterdns, ["check", "--strict", BuiltProducts.packageRoot.appendingPathComponent("zones").path])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stdout.hasSuffix("registry is valid\n"), "\(clean.stdout)")

        let registry = try makeRegistry(["bad.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec: {clusterIP: 10.96.0.300, ports: [{port: 80}]}\n"])
        defer { try? FileManager.default.removeItem(at: registry) }
        let broken = try run(BuiltProducts.clusterdns, ["check", registry.path])
        #expect(broken.status == 1)
        #expect(broken.stdout.hasSuffix("1 error\n"), "\(broken.stdout)")
    }
}

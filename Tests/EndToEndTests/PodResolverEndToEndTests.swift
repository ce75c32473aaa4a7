import Foundation
import Testing

/// A pod's view: glibc's stub resolver (`getent ahosts`) with a resolv.conf like the kubelet
/// writes, bind-mounted over /etc/resolv.conf in a mount namespace of its own, so the machine's is
/// never touched. glibc has no port option: ClusterDNS listens on port 53 of an address of its own.
@Suite(.serialized, .enabled(if: UnboundUpstream.isInstalled && getuid() == 0, "needs unbound (apt-get install unbound; .ci/run does) and root for unshare --mount"))
struct PodResolverEndToEndTests {
    static let address = "127.0.0.77"

    @Test(arguments: [
        ("web", ["10.244.1.10", "10.244.1.11"]),  // a headless Service, by its short name
        ("web-0.web", ["10.244.1.10"]),  // one of its pods
        ("kubernetes.default", ["10.96.0.1"]),  // a ClusterIP Service in another namespace
        ("db", ["198.51.100.7"]),  // an ExternalName, its target from the upstream
        ("www.example.com", ["93.184.216.34"]),  // outside the cluster, after the search path's NXDOMAINs
    ])
    func getentInAPodResolvesThroughTheSearchPath(_ name: String, _ expected: [String]) throws {
        let server = try ForwardingServer(listen: "\(Self.address):53")
        defer { server.stop() }
        let resolvConf = server.registry.appendingPathComponent("resolv.conf")
        try """
            nameserver \(Self.address)
            search shop.svc.cluster.local svc.cluster.local cluster.local
            options ndots:5 timeout:1 attempts:2

            """.write(to: resolvConf, atomically: true, encoding: .utf8)

        let result = try run("unshare", ["--mount", "sh", "-c", "mount --bind \(resolvConf.path) /etc/resolv.conf && exec getent ahosts \(name)"], timeout: 20)
        #expect(result.status == 0, "getent ahosts \(name): \(result.stdout)\(result.stderr)\n\(server.server.log)")
        let addresses = Set(result.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
        #expect(addresses == Set(expected), "getent ahosts \(name):\n\(result.stdout)")
    }
}

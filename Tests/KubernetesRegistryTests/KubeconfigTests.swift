import Foundation
import KubernetesRegistry
import Testing

@Suite struct KubeconfigTests {
    private func write(_ files: [String: String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return directory
    }

    @Test func theCurrentContextGivesServerCAAndToken() throws {
        let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let directory = try write(["config": """
            apiVersion: v1
            kind: Config
            current-context: b
            contexts:
            - {name: a, context: {cluster: one, user: alice}}
            - {name: b, context: {cluster: two, user: bob}}
            clusters:
            - {name: one, cluster: {server: "https://10.0.0.1:6443"}}
            - name: two
              cluster:
                server: https://127.0.0.1:8443/
                certificate-authority-data: \(Data(ca.utf8).base64EncodedString())
            users:
            - {name: alice, user: {token: wrong}}
            - {name: bob, user: {token: right}}
            """])
        defer { try? FileManager.default.removeItem(at: directory) }
        let access = try Kubeconfig.access(at: directory.appendingPathComponent("config").path)
        #expect(access.server == "https://127.0.0.1:8443")
        #expect(access.certificateAuthority == Data(ca.utf8))
        #expect(access.token == .value("right"))
        #expect(access.skipsTLSVerification == false)
    }

    @Test func filesAreReadRelativeToTheKubeconfigAndATokenFileStaysAPath() throws {
        let directory = try write([
            "config": """
                current-context: c
                contexts: [{name: c, context: {cluster: k, user: u}}]
                clusters: [{name: k, cluster: {server: "https://127.0.0.1:1", certificate-authority: ca.pem, insecure-skip-tls-verify: true}}]
                users: [{name: u, user: {tokenFile: token}}]
                """,
            "ca.pem": "PEM", "token": "secret\n",
        ])
        defer { try? FileManager.default.removeItem(at: directory) }
        let access = try Kubeconfig.access(at: directory.appendingPathComponent("config").path)
        #expect(access.certificateAuthority == Data("PEM".utf8))
        #expect(access.token == .file(directory.appendingPathComponent("token").path))
        #expect(access.skipsTLSVerification)
    }

    @Test(arguments: [
        ("current-context: x\ncontexts: []\n", "no contexts entry named x"),
        ("contexts: []\n", "no current-context"),
        ("- a list\n", "not a kubeconfig"),
        ("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: ftp://x}}]\n", "no https:// server"),
        ("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: \"https://x\"}}]\nusers: [{name: u, user: {client-certificate-data: QUJD}}]\n", "without its key"),
    ])
    func aBrokenKubeconfigIsAnErrorSayingWhatIsWrong(text: String, mention: String) throws {
        let directory = try write(["config": text])
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("config").path
        #expect {
            _ = try Kubeconfig.access(at: path)
        } throws: { error in
            let message = (error as? KubernetesError)?.message ?? ""
            return message.contains(mention) && message.contains(path)
        }
    }

    @Test func inAPodTheServiceAccountAndTheServiceEnvironmentGiveTheAccess() throws {
        let directory = try write(["ca.crt": "PEM", "token": "t"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let access = try KubernetesAccess.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory.path)
        #expect(access.server == "https://10.96.0.1:443")
        #expect(access.token == .file(directory.appendingPathComponent("token").path))
        #expect(throws: KubernetesError.self) { try KubernetesAccess.inCluster(environment: [:], directory: directory.path) }
    }
}

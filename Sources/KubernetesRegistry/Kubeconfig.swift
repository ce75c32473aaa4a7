import Foundation
import Yams

/// Reads the current context of a kubeconfig file, as kubectl does: its cluster's server and CA
/// (inline data or a file, relative to the kubeconfig), its user's bearer token (inline or a file)
/// or client certificate and key, and `insecure-skip-tls-verify` only when it is set.
public enum Kubeconfig {
    public static func access(at path: String, context wanted: String? = nil) throws(KubernetesError) -> KubernetesAccess {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw KubernetesError(.configuration, "--kubeconfig \(path): cannot be read")
        }
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else {
                throw KubernetesError(.configuration, "--kubeconfig \(path): not a kubeconfig (expected a mapping)")
            }
            root = loaded
        } catch let error as KubernetesError {
            throw error
        } catch {
            throw KubernetesError(.configuration, "--kubeconfig \(path): not YAML: \(error)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        func fail(_ reason: String) -> KubernetesError { KubernetesError(.configuration, "--kubeconfig \(path): \(reason)") }
        func named(_ list: String, _ name: String, _ field: String) throws(KubernetesError) -> [String: Any] {
            let entries = root[list] as? [[String: Any]] ?? []
            guard let entry = entries.first(where: { $0["name"] as? String == name }) else { throw fail("no \(list) entry named \(name)") }
            guard let value = entry[field] as? [String: Any] else { throw fail("\(list) entry \(name) has no \(field)") }
            return value
        }
        func file(_ relative: String) throws(KubernetesError) -> Data {
            let resolved = relative.hasPrefix("/") ? relative : directory + "/" + relative
            guard let contents = FileManager.default.contents(atPath: resolved) else { throw fail("cannot read \(resolved)") }
            return contents
        }
        func base64(_ text: String, _ field: String) throws(KubernetesError) -> Data {
            guard let data = Data(base64Encoded: text.filter { !$0.isWhitespace }) else { throw fail("\(field) is not base64") }
            return data
        }

        guard let contextName = wanted ?? root["current-context"] as? String, !contextName.isEmpty else {
            throw fail("no current-context")
        }
        let context = try named("contexts", contextName, "context")
        guard let clusterName = context["cluster"] as? String else { throw fail("context \(contextName) names no cluster") }
        let cluster = try named("clusters", clusterName, "cluster")
        guard let server = cluster["server"] as? String, server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw fail("cluster \(clusterName) has no https:// server")
        }
        var access = KubernetesAccess(server: server, skipsTLSVerification: cluster["insecure-skip-tls-verify"] as? Bool ?? false)
        if let data = cluster["certificate-authority-data"] as? String {
            access.certificateAuthority = try base64(data, "certificate-authority-data")
        } else if let caFile = cluster["certificate-authority"] as? String {
            access.certificateAuthority = try file(caFile)
        }
        if let userName = context["user"] as? String {
            let user = try named("users", userName, "user")
            if let token = user["token"] as? String {
                access.token = .value(token)
            } else if let tokenFile = user["tokenFile"] as? String {
                access.token = .file(tokenFile.hasPrefix("/") ? tokenFile : directory + "/" + tokenFile)
            }
            if let data = user["client-certificate-data"] as? String {
                access.clientCertificate = try base64(data, "client-certificate-data")
            } else if let certificateFile = user["client-certificate"] as? String {
                access.clientCertificate = try file(certificateFile)
            }
            if let data = user["client-key-data"] as? String {
                access.clientKey = try base64(data, "client-key-data")
            } else if let keyFile = user["client-key"] as? String {
                access.clientKey = try file(keyFile)
            }
            if (access.clientCertificate == nil) != (access.clientKey == nil) {
                throw fail("user \(userName) has a client certificate without its key, or a key without its certificate")
            }
        }
        return access
    }
}

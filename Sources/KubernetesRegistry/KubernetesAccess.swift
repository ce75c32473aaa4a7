import Foundation

/// How to reach and authenticate to an API server: what a kubeconfig's current context or a pod's
/// service account gives.
public struct KubernetesAccess: Sendable, Equatable {
    /// `https://HOST:PORT`, without a trailing slash.
    public var server: String
    /// PEM of the CA that signed the server's certificate; nil trusts the system's roots.
    public var certificateAuthority: Data?
    public var token: Token
    /// PEM of a client certificate and its key, for certificate authentication.
    public var clientCertificate: Data?
    public var clientKey: Data?
    /// Only when the kubeconfig says `insecure-skip-tls-verify: true`.
    public var skipsTLSVerification: Bool

    public enum Token: Sendable, Equatable {
        case none
        case value(String)
        /// A file read again when it may have rotated (a projected service-account token).
        case file(String)
    }

    public init(
        server: String, certificateAuthority: Data? = nil, token: Token = .none, clientCertificate: Data? = nil, clientKey: Data? = nil,
        skipsTLSVerification: Bool = false
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthority = certificateAuthority
        self.token = token
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.skipsTLSVerification = skipsTLSVerification
    }

    /// The service account's directory in every pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Inside a pod: `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account's `ca.crt`, and its
    /// `token`, which the kubelet rotates, so it is named by path and read again.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment, directory: String = serviceAccountDirectory
    ) throws(KubernetesError) -> KubernetesAccess {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty, let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw KubernetesError(.configuration, "--kubernetes: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: not in a pod? (use --kubeconfig PATH outside a cluster)")
        }
        let caPath = directory + "/ca.crt"
        guard let ca = FileManager.default.contents(atPath: caPath) else {
            throw KubernetesError(.configuration, "--kubernetes: cannot read \(caPath): is a service account mounted?")
        }
        let tokenPath = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubernetesError(.configuration, "--kubernetes: cannot read \(tokenPath): is a service account mounted?")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubernetesAccess(server: "https://\(hostPart):\(port)", certificateAuthority: ca, token: .file(tokenPath))
    }
}

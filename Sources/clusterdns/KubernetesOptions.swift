import ArgumentParser
import KubernetesRegistry
import Logging

/// `--kubernetes` and `--kubeconfig`: the cluster's API server as the registry.
struct KubernetesOptions: ParsableArguments {
    @Flag(name: .customLong("kubernetes"), help: "Read the registry from the cluster's API server, from inside a pod (KUBERNETES_SERVICE_HOST/PORT and the service account's token and CA).")
    var inCluster = false

    @Option(name: .customLong("kubeconfig"), help: ArgumentHelp("Read the registry from the API server of this kubeconfig's current context (server, CA, token or client certificate).", valueName: "path"))
    var kubeconfig: String?

    var isEnabled: Bool { inCluster || kubeconfig != nil }

    /// Where the API server is and how to authenticate.
    func access() throws -> KubernetesAccess {
        if let kubeconfig { return try Kubeconfig.access(at: kubeconfig) }
        return try KubernetesAccess.inCluster()
    }

    /// Runs `body` with a client of `access` that is shut down after it, however it ends.
    func withClient<T>(_ access: KubernetesAccess, _ body: (KubernetesClient) async throws -> T) async throws -> T {
        try await shuttingDown(try KubernetesClient(access: access), after: body)
    }
}

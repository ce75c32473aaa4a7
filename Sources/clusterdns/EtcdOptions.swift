import ArgumentParser
import EtcdRegistry
import Logging

/// `--etcd` and `--etcd-prefix`, shared by `serve` and the `registry` commands.
struct EtcdOptions: ParsableArguments {
    @Option(
        name: .customLong("etcd"),
        help: ArgumentHelp("etcd members to read the registry from, comma-separated (http://10.0.0.1:2379,http://10.0.0.2:2379).", valueName: "urls"),
        transform: { text in
            let urls = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for url in urls where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                throw ValidationError("--etcd '\(url)' is not an http:// or https:// URL")
            }
            return urls
        }
    )
    var endpointLists: [[String]] = []

    @Option(name: .customLong("etcd-prefix"), help: "The key prefix of the registry in etcd (Kubernetes's --etcd-prefix).")
    var prefix: String = "/registry"

    var endpoints: [String] { endpointLists.flatMap { $0 } }

    var layout: EtcdKeyLayout { EtcdKeyLayout(prefix: prefix) }

    /// Runs `body` with a client that is shut down after it, however it ends.
    /// - Parameter retryBudget: how long one call tries members before it fails (`serve` retries
    ///   on its own, and logs meanwhile; a command waits for the cluster to elect a leader).
    func withClient<T>(logger: Logger, retryBudget: Duration = .seconds(10), _ body: (EtcdClient) async throws -> T) async throws -> T {
        var configuration = EtcdClient.Configuration()
        configuration.retryBudget = retryBudget
        return try await shuttingDown(EtcdClient(endpoints: endpoints, configuration: configuration, logger: logger), after: body)
    }
}

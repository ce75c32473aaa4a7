import ArgumentParser
import ClusterZones
import DNSServer
import Foundation
import KubernetesRegistry
import Logging
import ServiceRegistry

extension ServeCommand {
    /// `serve --kubernetes` or `--kubeconfig`: as `--etcd`, the listener is up at once and answers
    /// SERVFAIL in its zones until every resource has been listed (and /ready is 503 until then);
    /// then changes are patched in as they are watched. While the API server cannot be reached the
    /// last good registry answers and /ready stays 200: every replica turning unready at once would
    /// take the whole cluster's DNS away.
    func serveFromKubernetes(logger: Logger) async throws {
        let access: KubernetesAccess
        do {
            access = try kubernetes.access()
        } catch let error as KubernetesError {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        let resources = KubernetesResource.needed(pods: readsPodsByAddress)
        let origin = "the API server \(access.server) (\(resources.map(\.kind).joined(separator: ", ")))"
        try await serveFollowedRegistry(from: origin, logger: logger) { publisher, serve in
            try await kubernetes.withClient(access) { client in
                let source = KubernetesSource(client: client, resources: resources, options: registryOptions, logger: logger)
                try await serve([
                    TaskService {
                        await source.run { publication in
                            switch publication {
                            case .synced(let snapshot): publisher.synced(snapshot, from: "the API server")
                            case .update(let update): publisher.applied(update)
                            }
                        }
                    }
                ])
            }
        }
    }
}

import EtcdRegistry
import KubernetesRegistry

/// A client that must be shut down before it is released (AsyncHTTPClient traps otherwise).
protocol ShutsDown {
    func shutdown() async
}

extension EtcdClient: ShutsDown {}
extension KubernetesClient: ShutsDown {}

/// Runs `body` with `client`, then shuts the client down, however `body` ends.
func shuttingDown<Client: ShutsDown, T>(_ client: Client, after body: (Client) async throws -> T) async throws -> T {
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

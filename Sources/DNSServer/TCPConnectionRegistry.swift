import NIOCore
import Synchronization

/// The open TCP connections of one listener: enforces the connection cap, overall and per client
/// address, and lets shutdown close connections that would otherwise live on until their timeout.
final class TCPConnectionRegistry: Sendable {
    /// Fails a connection accepted beyond a cap, which makes the bootstrap close it.
    struct LimitReached: Error {}

    private struct Open {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var perClient: [String: Int] = [:]
    }

    private let limit: Int
    private let perClientLimit: Int
    private let open = Mutex(Open())

    init(limit: Int, perClientLimit: Int) {
        self.limit = limit
        self.perClientLimit = perClientLimit
    }

    var count: Int { open.withLock { $0.channels.count } }

    /// Registers `channel` until it closes; false (and nothing registered) when either cap is reached.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let client = channel.remoteAddress?.ipAddress ?? ""
        let admitted = open.withLock { open in
            guard open.channels.count < limit, open.perClient[client, default: 0] < perClientLimit else { return false }
            open.channels[id] = channel
            open.perClient[client, default: 0] += 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in
                self.open.withLock { open in
                    open.channels.removeValue(forKey: id)
                    open.perClient[client, default: 1] -= 1
                    if open.perClient[client] == 0 { open.perClient.removeValue(forKey: client) }
                }
            }
        }
        return admitted
    }

    /// Closes every open connection and waits for them to be closed.
    func closeAll() async {
        let channels = open.withLock { Array($0.channels.values) }
        for channel in channels {
            try? await channel.close()
        }
    }
}

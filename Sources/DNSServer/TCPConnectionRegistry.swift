import NIOCore
import Synchronization

/// The open TCP connections of one listener: enforces the connection cap and lets shutdown close
/// connections that would otherwise live on until their idle timeout.
final class TCPConnectionRegistry: Sendable {
    /// Fails a connection accepted beyond the cap, which makes the bootstrap close it.
    struct LimitReached: Error {}

    private let limit: Int
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { connections.withLock { $0.count } }

    /// Registers `channel` until it closes; false (and nothing registered) when the cap is reached.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = connections.withLock { open in
            guard open.count < limit else { return false }
            open[id] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in self.connections.withLock { _ = $0.removeValue(forKey: id) } }
        }
        return admitted
    }

    /// Closes every open connection and waits for them to be closed.
    func closeAll() async {
        let open = connections.withLock { Array($0.values) }
        for channel in open {
            try? await channel.close()
        }
    }
}

import Synchronization

/// The members a client may ask, and which one it asks first. A failure moves the preference to
/// the next member, so every caller of one client steers away from a dead or leaderless member.
final class EtcdEndpoints: Sendable {
    let urls: [String]
    private let preferred = Mutex(0)

    /// - Parameter urls: `http://host:port`, without a trailing slash (one is dropped).
    init(_ urls: [String]) {
        self.urls = urls.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    var current: String { urls[preferred.withLock { $0 } % urls.count] }

    /// Moves past `failed`, unless another caller already did.
    func failed(_ failed: String) {
        preferred.withLock { index in
            if urls[index % urls.count] == failed { index = (index + 1) % urls.count }
        }
    }
}

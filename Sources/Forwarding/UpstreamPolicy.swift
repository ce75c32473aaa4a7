/// The order upstreams are tried in, as CoreDNS's forward plugin names them.
public enum UpstreamPolicy: String, Sendable, CaseIterable {
    /// A new random order per query: the load spreads evenly (CoreDNS's default).
    case random
    /// Each query starts one upstream further along than the last.
    case roundRobin = "round_robin"
    /// Always the first first: the others only when it fails (a preferred upstream with backups).
    case sequential

    /// The order of `count` upstreams for the `turn`th query.
    func order(count: Int, turn: Int) -> [Int] {
        switch self {
        case .random:
            return Array(0..<count).shuffled()
        case .roundRobin:
            let start = count == 0 ? 0 : turn % count
            return Array(start..<count) + Array(0..<start)
        case .sequential:
            return Array(0..<count)
        }
    }
}

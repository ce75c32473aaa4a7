import DNSWire
import ServiceRegistry

/// Every zone served for one registry snapshot; a question goes to the zone with the longest
/// matching origin. Built off the hot path and swapped in whole when the registry changes.
public final class Catalog: Sendable {
    public let snapshot: RegistrySnapshot
    public let configuration: ZoneConfiguration
    public let clusterZone: ClusterZone
    public let reverseZones: [ReverseZone]

    public init(snapshot: RegistrySnapshot, configuration: ZoneConfiguration) {
        self.snapshot = snapshot
        self.configuration = configuration
        let published = PublishedEndpointIndex(snapshot: snapshot)
        self.clusterZone = ClusterZone(snapshot: snapshot, configuration: configuration, published: published)
        self.reverseZones = ReverseZone.zones(snapshot: snapshot, configuration: configuration, published: published)
    }

    /// Origins of the zones held, cluster zone first.
    public var origins: [DNSName] { [clusterZone.origin] + reverseZones.map(\.origin) }

    /// The answers to `types` at `name` (class IN), as `answer` gives them one by one; the cluster
    /// zone resolves the name once for all of them.
    public func answers(at name: DNSName, types: [RecordType]) -> [Answer] {
        if name.isSubdomain(of: clusterZone.origin) {
            return clusterZone.answers(at: name, types: types)
        }
        return types.map { answer(DNSQuestion(name: name, type: $0)) }
    }

    /// The answer to one question. Names outside every zone are REFUSED (no forwarding yet).
    public func answer(_ question: DNSQuestion) -> Answer {
        guard question.class == .in || question.class == .any else { return .refused }
        if question.name.isSubdomain(of: clusterZone.origin) {
            return clusterZone.answer(question)
        }
        for zone in reverseZones where question.name.isSubdomain(of: zone.origin) {
            return zone.answer(question)
        }
        return .refused
    }
}

import DNSWire
import ServiceRegistry

/// Every zone served for one registry snapshot; a question goes to the zone with the longest
/// matching origin. Built off the hot path and swapped in whole when the registry changes.
public final class Catalog: Sendable {
    public let snapshot: RegistrySnapshot
    public let configuration: ZoneConfiguration
    public let clusterZone: ClusterZone
    public let reverseZones: [ReverseZone]
    /// Every zone in the order questions search them: longest origin first, so a name goes to the
    /// most specific zone that holds it.
    private let zonesByOrigin: [any Zone]

    public init(snapshot: RegistrySnapshot, configuration: ZoneConfiguration) {
        self.snapshot = snapshot
        self.configuration = configuration
        let published = PublishedEndpointIndex(snapshot: snapshot)
        self.clusterZone = ClusterZone(snapshot: snapshot, configuration: configuration, published: published)
        self.reverseZones = ReverseZone.zones(snapshot: snapshot, configuration: configuration, published: published)
        self.zonesByOrigin = ([clusterZone as any Zone] + reverseZones.map { $0 as any Zone }).sorted { $0.origin.labelCount > $1.origin.labelCount }
    }

    /// Origins of the zones held, cluster zone first.
    public var origins: [DNSName] { [clusterZone.origin] + reverseZones.map(\.origin) }


    /// The answers to `types` at `name` (class IN, no meta types), as `answer` gives them one by
    /// one; the cluster zone resolves the name once for all of them.
    public func answers(at name: DNSName, types: [RecordType]) -> [Answer] {
        let name = name.lowercased()
        if name.isSubdomain(of: clusterZone.origin), !types.contains(where: \.isMeta) {
            return clusterZone.answers(at: name, types: types)
        }
        return types.map { answer(DNSQuestion(name: name, type: $0)) }
    }

    /// The answer to one question: the one place the rules every zone shares are applied.
    ///
    /// - Case: names compare without case; every record comes back in lower case, and the
    ///   encoder writes an owner equal to the question as a pointer to the client's own spelling.
    /// - ANY (RFC 8482): a name that exists gets one HINFO record instead of all its records.
    /// - AXFR and IXFR: NOTIMP until zone transfers exist. Other meta types are types no name has
    ///   records of: NODATA, as Knot DNS, NSD and PowerDNS answer them.
    /// - Classes other than IN (or ANY), and names outside every zone: REFUSED.
    public func answer(_ question: DNSQuestion) -> Answer {
        guard question.class == .in || question.class == .any else { return .refused }
        let name = question.name.lowercased()
        guard let zone = zonesByOrigin.first(where: { name.isSubdomain(of: $0.origin) }) else { return .refused }
        let asked = DNSQuestion(name: name, type: question.type, class: question.class)
        switch question.type {
        case .axfr, .ixfr:
            return Answer(responseCode: .notImplemented, authoritative: false)
        case .any:
            let existing = zone.answer(asked)
            guard existing.responseCode == .noError || !existing.answers.isEmpty else { return existing }
            return configuration.minimalAnyAnswer(owner: name)
        default:
            return zone.answer(asked)
        }
    }
}

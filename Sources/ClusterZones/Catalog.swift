import DNSWire
import ServiceRegistry

/// Every zone served for one registry snapshot; a question goes to the zone with the longest
/// matching origin. Built whole once, then made anew for each registry change by patching only
/// what that change touches (`applying(_:)`); a query reads one catalog from start to end.
public final class Catalog: Sendable {
    public let snapshot: RegistrySnapshot
    public let configuration: ZoneConfiguration
    public let clusterZone: ClusterZone
    public let reverseZones: [ReverseZone]
    /// One per `ZoneConfiguration.externalOrigins`.
    public let externalZones: [ExternalZone]
    let reverseIndex: ReverseIndex
    let externalIndex: ExternalServiceIndex
    /// The zones read from master files: independent of the registry, so every catalog made from
    /// this one carries them forward until `replacingStaticZones` swaps them.
    public let staticZones: [StaticZone]
    /// Made with the registry's zones and shared by every catalog that only swaps static zones:
    /// what an answer table compiled for one of them is valid for.
    private let registryZonesIdentity: RegistryZonesIdentity
    /// Every zone in the order questions search them: longest origin first, so a name goes to the
    /// most specific zone that holds it.
    private let zonesByOrigin: [any Zone]
    /// The registry has not been heard from whole yet (etcd not listed): every name of every zone
    /// answers SERVFAIL, never NXDOMAIN, which a client would cache for a Service that exists.
    public let isAwaitingRegistry: Bool

    /// Builds both indexes in one walk over the Services, with one key made per Service.
    /// - Parameters:
    ///   - awaitingRegistry: answer SERVFAIL in the registry's zones until a catalog of a complete
    ///     registry replaces this one (see `isAwaitingRegistry`).
    ///   - staticZones: the zones read from master files, served beside the registry's.
    public convenience init(
        snapshot: RegistrySnapshot, configuration: ZoneConfiguration, awaitingRegistry: Bool = false, staticZones: [StaticZone] = []
    ) {
        var published = PublishedEndpointIndex()
        var reverse = ReverseIndex.Builder(domain: configuration.domain)
        var external = ExternalServiceIndex()
        snapshot.forEachService { service in
            let key = ServiceKey(service)
            let endpoints = published.set(service, key: key, in: snapshot)
            reverse.add(ReverseIndex.contributions(of: service, key: key, endpoints: endpoints))
            external.add(service)
        }
        self.init(
            snapshot: snapshot, configuration: configuration, published: published, reverse: reverse.finish(), external: external,
            awaitingRegistry: awaitingRegistry, staticZones: staticZones)
    }

    private convenience init(
        snapshot: RegistrySnapshot, configuration: ZoneConfiguration, published: PublishedEndpointIndex, reverse: ReverseIndex,
        external: ExternalServiceIndex, awaitingRegistry: Bool = false, staticZones: [StaticZone]
    ) {
        self.init(
            snapshot: snapshot, configuration: configuration, clusterZone: ClusterZone(snapshot: snapshot, configuration: configuration, published: published),
            reverse: reverse, reverseZones: ReverseZone.zones(index: reverse, configuration: configuration, serial: snapshot.serial),
            external: external,
            externalZones: configuration.externalOrigins.map { ExternalZone(origin: $0, snapshot: snapshot, configuration: configuration, index: external) },
            awaitingRegistry: awaitingRegistry, staticZones: staticZones, registryZonesIdentity: RegistryZonesIdentity())
    }

    private init(
        snapshot: RegistrySnapshot, configuration: ZoneConfiguration, clusterZone: ClusterZone, reverse: ReverseIndex, reverseZones: [ReverseZone],
        external: ExternalServiceIndex, externalZones: [ExternalZone], awaitingRegistry: Bool, staticZones: [StaticZone],
        registryZonesIdentity: RegistryZonesIdentity
    ) {
        self.registryZonesIdentity = registryZonesIdentity
        self.isAwaitingRegistry = awaitingRegistry
        self.snapshot = snapshot
        self.configuration = configuration
        self.clusterZone = clusterZone
        self.reverseIndex = reverse
        self.reverseZones = reverseZones
        self.externalIndex = external
        self.externalZones = externalZones
        self.staticZones = staticZones
        let zones: [any Zone] = [clusterZone] + reverseZones + externalZones + staticZones
        self.zonesByOrigin = zones.sorted { $0.origin.labelCount > $1.origin.labelCount }
    }

    /// This catalog serving `zones` as its static zones instead of the ones it has; the registry's
    /// zones are shared, not built again, so the answer table compiled for them still holds (it
    /// holds no static zone's names).
    public func replacingStaticZones(_ zones: [StaticZone]) -> Catalog {
        Catalog(
            snapshot: snapshot, configuration: configuration, clusterZone: clusterZone, reverse: reverseIndex, reverseZones: reverseZones,
            external: externalIndex, externalZones: externalZones, awaitingRegistry: isAwaitingRegistry, staticZones: zones,
            registryZonesIdentity: registryZonesIdentity)
    }

    /// This catalog serving the static zones `other` serves: itself when it serves those already.
    public func servingStaticZones(of other: Catalog) -> Catalog {
        staticZones.elementsEqual(other.staticZones, by: ===) ? self : replacingStaticZones(other.staticZones)
    }

    /// Whether this catalog serves the very registry zones `other` does (one was made from the
    /// other by `replacingStaticZones`), so that an answer table compiled for one answers for both.
    public func hasRegistryZones(of other: Catalog) -> Bool {
        registryZonesIdentity === other.registryZonesIdentity
    }

    /// Whether `name` (in lower case) is in a zone held here: names that are not are forwarded,
    /// or REFUSED without a forwarder.
    public func holds(_ name: DNSName) -> Bool {
        zonesByOrigin.contains { name.isSubdomain(of: $0.origin) }
    }

    /// The zone whose apex is `name` (any case): what a zone transfer of `name` sends; nil when
    /// `name` is no apex held here.
    public func zone(withOrigin name: DNSName) -> (any Zone)? {
        let name = name.inLowerCase
        return zonesByOrigin.first { $0.origin == name }
    }

    /// The zone holding `name` (in lower case), by longest origin.
    func zone(holding name: DNSName) -> (any Zone)? {
        zonesByOrigin.first { name.isSubdomain(of: $0.origin) }
    }

    /// The SOA of the zone at `origin` as it was, or is, at `serial`: the records that frame each
    /// version of an incremental transfer.
    public func soaRecord(ofZone origin: DNSName, serial: UInt32) -> ResourceRecord {
        configuration.soaRecord(owner: origin, serial: serial)
    }

    /// Origins of the registry's zones, cluster zone first.
    public var origins: [DNSName] { [clusterZone.origin] + reverseZones.map(\.origin) }

    /// The catalog of `update`'s snapshot, made from this one by deriving again only the Services,
    /// pod addresses and reverse names the update touched; and every name whose answers may have
    /// changed, with the types it now holds (nil: no longer held), for `AnswerTable.patched`.
    ///
    /// An endpoint name whose addresses are what they were, and an address whose PTR targets are,
    /// answer as before and are left out: an endpoint added to a headless Service of a thousand
    /// patches a few names, not a thousand endpoint names and their thousand PTRs.
    public func applying(_ update: RegistryUpdate) -> (catalog: Catalog, changedNames: [DNSName: [RecordType]?]) {
        let next = update.snapshot
        var published = clusterZone.published
        var reverse = reverseIndex
        var external = externalIndex
        var changed: [DNSName: [RecordType]?] = [:]
        // A Service's endpoint names are compared by label and addresses, and only those that
        // differ are named: most of a changed Service's endpoints are as they were, and making and
        // hashing every one of their names twice was a third of applying an endpoint change.
        var endpointsBefore: [ObjectKey: (parent: ClusterZone.EndpointParent, labels: [String: [IPAddress]])] = [:]
        var targetsBefore: [IPAddress: [ReverseIndex.PTRTarget]] = [:]
        var targetsAfter: [IPAddress: [ReverseIndex.PTRTarget]] = [:]
        for key in update.change.services {
            guard let old = snapshot.service(key) else { continue }
            external.remove(old)
            let parent = clusterZone.forEachServiceLevelName(of: old) { name, _, _ in changed.updateValue(nil, forKey: name) }
            if let parent {
                var labels: [String: [IPAddress]] = [:]
                for endpoint in clusterZone.endpointLabels(of: old) { labels[endpoint.label] = endpoint.addresses }
                endpointsBefore[key] = (parent, labels)
            }
            for (address, target) in ReverseIndex.contributions(of: old, key: ServiceKey(key), endpoints: published.endpoints(of: old)) {
                targetsBefore[address, default: []].append(target)
            }
        }
        for key in update.change.services {
            published.update(key, in: next)
            guard let service = next.service(key) else { continue }
            external.add(service)
            for (address, target) in ReverseIndex.contributions(of: service, key: ServiceKey(key), endpoints: published.endpoints(of: service)) {
                targetsAfter[address, default: []].append(target)
            }
        }
        // Only the addresses whose targets changed are taken out of the index and put back.
        var changedAddresses: [IPAddress] = []
        var removed: [(IPAddress, ReverseIndex.PTRTarget)] = []
        var added: [(IPAddress, ReverseIndex.PTRTarget)] = []
        for address in Set(targetsBefore.keys).union(targetsAfter.keys) {
            let before = targetsBefore[address] ?? []
            let after = targetsAfter[address] ?? []
            guard before.count != after.count || (before.count == 1 ? before != after : before.sorted() != after.sorted()) else { continue }
            changedAddresses.append(address)
            removed += before.map { (address, $0) }
            added += after.map { (address, $0) }
        }
        reverse.remove(removed)
        reverse.add(added)
        let catalog = Catalog(
            snapshot: next, configuration: configuration, published: published, reverse: reverse, external: external, staticZones: staticZones)
        func removeEndpointNames(_ labels: Dictionary<String, [IPAddress]>.Keys, under parent: ClusterZone.EndpointParent) {
            for label in labels {
                if let name = try? parent.serviceName.prepending(labels: [label]) { changed.updateValue(nil, forKey: name) }
            }
        }
        for key in update.change.services {
            guard let service = next.service(key) else { continue }
            let zone = catalog.clusterZone
            guard let parent = zone.forEachServiceLevelName(of: service, { name, types, _ in changed[name] = types }) else { continue }
            var labelsBefore: [String: [IPAddress]] = [:]
            if let before = endpointsBefore[key], before.parent.serviceName == parent.serviceName {
                labelsBefore = before.labels
                endpointsBefore[key] = nil
            }
            for endpoint in zone.endpointLabels(of: service) {
                guard labelsBefore.removeValue(forKey: endpoint.label) != endpoint.addresses,
                    let (name, _) = zone.endpointName(endpoint, of: service, under: parent)
                else { continue }
                changed[name] = [.a, .aaaa]
            }
            removeEndpointNames(labelsBefore.keys, under: parent)
        }
        // The endpoint names of Services gone, or left without names of their own.
        for (_, before) in endpointsBefore { removeEndpointNames(before.labels.keys, under: before.parent) }
        for address in changedAddresses {
            guard let name = ZoneExport.reverseName(of: address) else { continue }
            changed[name] = reverse.targets[address] == nil ? .some(nil) : [.ptr]
        }
        if configuration.podMode == .verified {
            for pod in update.change.podAddresses {
                guard let name = podName(pod) else { continue }
                let exists = next.hasPod(withIP: pod.address, inNamespace: pod.namespace)
                changed[name] = exists ? [.a, .aaaa] : .some(nil)
            }
        }
        // The apexes answer the SOA, whose serial every update changes.
        for origin in origins { changed[origin] = [.soa, .ns] }
        return (catalog, changed)
    }

    /// What a name listed by `forEachHeldName` is, as the walk listing it knows.
    enum KnownName {
        /// A name of the cluster zone with plain labels, and what it resolves to.
        case cluster(ClusterName)
        /// The reverse name of an address the reverse zones answer PTR for.
        case reverse(IPAddress)
    }

    /// `<a-b-c-d>.<ns>.pod.<zone>`.
    func podName(_ pod: PodAddress) -> DNSName? {
        try? clusterZone.origin.prepending(labels: [pod.address.dashedLabel, pod.namespace, "pod"])
    }

    /// The answers to `types` at `name` (class IN, no meta types), as `answer` gives them one by
    /// one; the cluster zone resolves the name once for all of them.
    public func answers(at name: DNSName, types: [RecordType]) -> [Answer] {
        answers(at: name, types: types, known: nil)
    }

    /// `answers(at:types:)` for a name the walks of `forEachHeldName` list, which is not resolved
    /// again when they know what it is.
    func answers(at name: DNSName, types: [RecordType], known: KnownName?) -> [Answer] {
        let name = name.inLowerCase
        let hasMeta = types.contains(where: \.isMeta)
        if name.isSubdomain(of: clusterZone.origin), !hasMeta {
            guard case .cluster(let node)? = known else { return clusterZone.answers(at: name, types: types) }
            return clusterZone.answers(at: name, resolvedTo: node, types: types)
        }
        if case .reverse(let address)? = known, !hasMeta, let zone = reverseZones.first(where: { $0.holds(address) }) {
            return types.map { zone.answer(DNSQuestion(name: name, type: $0), address: address) }
        }
        return types.map { answer(DNSQuestion(name: name, type: $0)) }
    }

    /// The origin of the zone `name` lies in, if any.
    func zoneOrigin(of name: DNSName) -> DNSName? {
        zonesByOrigin.first(where: { name.isSubdomain(of: $0.origin) })?.origin
    }

    /// The NODATA answer of the zone holding `name` (its SOA in authority), whether the name exists
    /// or not: what every NODATA body of the answer table is, for the current serial.
    func noDataAnswer(at name: DNSName) -> Answer? {
        guard let origin = zoneOrigin(of: name) else { return nil }
        return Answer(authority: [configuration.soaRecord(owner: origin, serial: snapshot.serial)])
    }

    /// The answer to one question: the one place the rules every zone shares are applied.
    ///
    /// - Case: names compare without case; every record comes back in lower case, and the
    ///   encoder writes an owner equal to the question as a pointer to the client's own spelling.
    /// - ANY (RFC 8482): a name that exists gets one HINFO record instead of all its records.
    /// - AXFR and IXFR: NOTIMP. Transfers run over TCP, where the transport hands them to the
    ///   transfer path before they reach here; over UDP they are not defined (RFC 5936 §4.2)
    ///   and NOTIMP is what Knot DNS answers. Other meta types are types no name has
    ///   records of: NODATA, as Knot DNS, NSD and PowerDNS answer them.
    /// - Classes other than IN (or ANY), and names outside every zone: REFUSED.
    public func answer(_ question: DNSQuestion) -> Answer {
        guard question.class == .in || question.class == .any else { return .refused }
        let name = question.name.inLowerCase
        guard let zone = zonesByOrigin.first(where: { name.isSubdomain(of: $0.origin) }) else { return .refused }
        // A static zone was read whole before serving began: only the registry's zones wait.
        if isAwaitingRegistry, !(zone is StaticZone) { return Answer(responseCode: .serverFailure, authoritative: false) }
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

extension DNSName {
    /// `lowercased()`, without the copy when the name is in lower case already, as every name the
    /// zones list is (a full compile asks for some 160k of them).
    var inLowerCase: DNSName {
        wire.contains { DNSName.asciiLowercased($0) != $0 } ? lowercased() : self
    }
}

/// The identity of one build of the registry's zones (`Catalog.hasRegistryZones(of:)`).
private final class RegistryZonesIdentity: Sendable {}

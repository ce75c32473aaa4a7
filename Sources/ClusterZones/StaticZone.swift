import DNSWire

/// A zone read from an RFC 1035 master file (`StaticZone.load`, through libldns), answered
/// authoritatively by the rules the cluster zone follows: NXDOMAIN only for a name that does not
/// exist and has nothing below it (RFC 8020), NODATA for one that does (an empty non-terminal
/// included), the SOA in the authority section of both, CNAMEs chased inside the zone, referrals
/// with glue at delegations, and wildcards as RFC 4592 defines them.
///
/// Immutable once built; a reload builds a new one. Owners are kept in lower case, record data as
/// the file wrote it.
public final class StaticZone: Zone, Sendable {
    public let origin: DNSName
    /// Where the zone was read from, for logs and errors.
    public let file: String
    /// The SOA record at the apex.
    public let soa: ResourceRecord
    /// Every record but the SOA, in the order of the file.
    private let records: [ResourceRecord]
    /// Each owner's RRsets by type.
    private let nodes: [DNSName: [RecordType: [ResourceRecord]]]
    /// Every name that exists: the owners, and the empty non-terminals between them and the apex.
    private let existingNames: Set<DNSName>
    /// Owners below the apex that have NS records: where the zone delegates to others.
    private let cuts: Set<DNSName>
    private let originLabelCount: Int

    /// The longest CNAME chain followed inside the zone (a loop ends there too).
    static let maxChain = 8
    /// DS lives on the parent's side of a cut (RFC 4035 §3.1.4.1), so it is answered, not referred.
    static let delegationSigner = RecordType(43)

    /// Builds the zone from `records` (the SOA among them) and checks what a master file parser
    /// does not: one SOA, at the origin; every owner inside the zone; no CNAME beside other data.
    public init(origin: DNSName, file: String, records: [ResourceRecord]) throws(StaticZoneError) {
        let origin = origin.lowercased()
        func failure(_ reason: String) -> StaticZoneError { StaticZoneError(file: file, reason: reason) }
        var soa: ResourceRecord?
        var others: [ResourceRecord] = []
        var nodes: [DNSName: [RecordType: [ResourceRecord]]] = [:]
        for var record in records {
            record.name = record.name.lowercased()
            // First, so a file whose $ORIGIN moved it elsewhere is told so rather than that all is outside.
            if record.type == .soa, record.name != origin {
                throw failure("the SOA is at \(record.name), not at the zone's origin \(origin)")
            }
            guard record.name.isSubdomain(of: origin) else {
                throw failure("\(record.name) \(record.type) is outside the zone \(origin)")
            }
            guard record.class == .in else { throw failure("\(record.name) \(record.type) is of class \(record.class); only IN is served") }
            if record.type == .soa {
                guard soa == nil else { throw failure("the zone has more than one SOA record") }
                soa = record
            } else {
                others.append(record)
            }
            nodes[record.name, default: [:]][record.type, default: []].append(record)
        }
        guard let soa else { throw failure("the zone \(origin) has no SOA record") }
        var existing = Set<DNSName>()
        var cuts = Set<DNSName>()
        for (owner, rrsets) in nodes {
            if rrsets[.cname] != nil, rrsets.count > 1 {
                let other = rrsets.keys.filter { $0 != .cname }.map(\.description).sorted().joined(separator: ", ")
                throw failure("\(owner) has a CNAME and other data (\(other)); a CNAME must stand alone (RFC 1034 §3.6.2)")
            }
            if rrsets[.ns] != nil, owner != origin { cuts.insert(owner) }
            var name = owner
            while existing.insert(name).inserted, name != origin { name = name.dropping(1) }
        }
        self.origin = origin
        self.file = file
        self.soa = soa
        self.records = others
        self.nodes = nodes
        self.existingNames = existing
        self.cuts = cuts
        self.originLabelCount = origin.labelCount
    }

    /// The zone's records in AXFR order (RFC 5936): the SOA first, then every other record; the
    /// closing SOA is the transfer's to add.
    public func transferRecords() -> [ResourceRecord] {
        [soa] + records
    }

    /// The SOA as negative answers carry it: its TTL no longer than its MINIMUM (RFC 2308 §5).
    private var negativeSOA: ResourceRecord {
        var record = soa
        if case .soa(let fields) = soa.data { record.ttl = min(soa.ttl, fields.minimum) }
        return record
    }

    /// What a name leads to in this zone.
    private enum Match {
        /// The name's RRsets (a wildcard's, when `synthesized`, to be given the name as owner).
        case node([RecordType: [ResourceRecord]], synthesized: Bool)
        /// The name exists and owns nothing (or only what a wildcard's empty non-terminal owns).
        case empty
        /// The name is at or below the cut `cut`: another server's.
        case delegated(cut: DNSName)
        case nonexistent
    }

    public func answer(_ question: DNSQuestion) -> Answer {
        var answers: [ResourceRecord] = []
        var name = question.name
        var followed: Set<DNSName> = []
        for _ in 0..<Self.maxChain {
            switch match(name, type: question.type) {
            case .delegated(let cut):
                var referral = self.referral(at: cut)
                guard !answers.isEmpty else { return referral }
                // A CNAME of ours into a delegated name: our part is authoritative, the rest is the referral.
                referral.answers = answers
                referral.authoritative = true
                return referral
            case .nonexistent:
                // RFC 6604: after a CNAME, the code is the target's.
                return Answer(responseCode: .nameError, answers: answers, authority: [negativeSOA])
            case .empty:
                return Answer(answers: answers, authority: [negativeSOA])
            case .node(let rrsets, let synthesized):
                func owned(_ set: [ResourceRecord]) -> [ResourceRecord] {
                    guard synthesized else { return set }
                    return set.map { ResourceRecord(name: name, class: $0.class, ttl: $0.ttl, data: $0.data) }
                }
                if let set = rrsets[question.type] {
                    answers += owned(set)
                    return Answer(answers: answers, additional: additionalRecords(for: set))
                }
                guard question.type != .cname, let cname = rrsets[.cname]?.first, case .cname(let target) = cname.data else {
                    return Answer(answers: answers, authority: [negativeSOA])
                }
                answers += owned([cname])
                followed.insert(name)
                let next = target.lowercased()
                // Outside the zone, or a loop: the chain is the client's (or the forwarder's) to follow.
                guard next.isSubdomain(of: origin), !followed.contains(next) else { return Answer(answers: answers) }
                name = next
            }
        }
        return Answer(answers: answers)
    }

    /// Finds `name` (lower case, inside the zone): the highest cut at or above it (unless it asks
    /// for the DS at that cut), its own node, or the source of synthesis of its closest encloser
    /// (RFC 4592 §3.3.1: only the wildcard child of the closest encloser matches, so a wildcard
    /// never answers for names below a name that exists).
    private func match(_ name: DNSName, type: RecordType) -> Match {
        let depth = name.labelCount - originLabelCount
        if !cuts.isEmpty {
            for above in stride(from: depth - 1, through: 0, by: -1) {
                let ancestor = name.dropping(above)
                guard cuts.contains(ancestor) else { continue }
                if above == 0, type == Self.delegationSigner { break }
                return .delegated(cut: ancestor)
            }
        }
        if let node = nodes[name] { return .node(node, synthesized: false) }
        if existingNames.contains(name) { return .empty }
        for above in 1...max(depth, 1) {
            let encloser = name.dropping(above)
            guard existingNames.contains(encloser) else { continue }
            guard let wildcard = try? encloser.prepending([UInt8(ascii: "*")]) else { return .nonexistent }
            if let node = nodes[wildcard] { return .node(node, synthesized: true) }
            return existingNames.contains(wildcard) ? .empty : .nonexistent
        }
        return .nonexistent
    }

    /// The referral to the servers of `cut`: not authoritative, their NS in authority, and the
    /// addresses the zone holds for them (glue below the cut, or names elsewhere in the zone) in
    /// additional.
    private func referral(at cut: DNSName) -> Answer {
        let servers = nodes[cut]?[.ns] ?? []
        return Answer(authoritative: false, authority: servers, additional: additionalRecords(for: servers))
    }

    /// The addresses this zone holds for the names `records` point at (NS, MX and SRV targets), as
    /// additional data, so a client need not ask again.
    private func additionalRecords(for records: [ResourceRecord]) -> [ResourceRecord] {
        var result: [ResourceRecord] = []
        var seen = Set<DNSName>()
        for record in records {
            let target: DNSName
            switch record.data {
            case .ns(let name): target = name
            case .mx(_, let name): target = name
            case .srv(_, _, _, let name): target = name
            default: continue
            }
            let owner = target.lowercased()
            guard owner.isSubdomain(of: origin), seen.insert(owner).inserted, let node = nodes[owner] else { continue }
            result += (node[.a] ?? []) + (node[.aaaa] ?? [])
        }
        return result
    }
}

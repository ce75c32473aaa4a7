import DNSWire
import ServiceRegistry

/// How pod A records (`1-2-3-4.ns.pod.<zone>`) are answered, as CoreDNS's `pods` option.
public enum PodMode: String, Sendable, CaseIterable {
    /// Pod names do not exist (NXDOMAIN).
    case disabled
    /// Any well-formed dashed IP answers with that IP, without checking the registry.
    case insecure
    /// Only IPs of pods in that namespace answer.
    case verified
}

/// What the operator chose for the zones: domain, TTL, pod mode and our own address for NS glue.
public struct ZoneConfiguration: Sendable {
    /// The cluster domain, `cluster.local` by default.
    public var domain: DNSName
    /// TTL of every synthesized record, and the SOA MINIMUM (so negative answers are cached as long).
    public var ttl: UInt32
    public var podMode: PodMode
    /// Glue for `ns.dns.<zone>`: the addresses the server listens on.
    public var nameServerAddresses: [IPAddress]
    /// `ns.dns.<zone>`: the SOA MNAME and the apex NS target.
    public let nameServerName: DNSName
    /// `hostmaster.<zone>`: the SOA RNAME.
    let hostmasterName: DNSName
    /// Origins of the external zones (`--external-zone`, CoreDNS's `k8s_external`), in lower case.
    public var externalOrigins: [DNSName] = [] {
        didSet { externalOrigins = externalOrigins.map { $0.lowercased() } }
    }

    public init(domain: DNSName, ttl: UInt32 = 5, podMode: PodMode = .disabled, nameServerAddresses: [IPAddress] = []) {
        let domain = domain.lowercased()
        self.domain = domain
        self.ttl = ttl
        self.podMode = podMode
        self.nameServerAddresses = nameServerAddresses
        self.nameServerName = (try? domain.prepending(labels: ["ns", "dns"])) ?? domain
        self.hostmasterName = (try? domain.prepending("hostmaster")) ?? domain
    }

    /// RFC 8482's minimal answer to ANY at an existing name: one HINFO instead of every record.
    func minimalAnyAnswer(owner: DNSName) -> Answer {
        Answer(answers: [ResourceRecord(name: owner, ttl: ttl, data: .hinfo(cpu: Array("RFC8482".utf8), os: []))])
    }

    /// The SOA every zone we serve answers at its apex and puts in its negative answers: refresh,
    /// retry and expire as CoreDNS, MINIMUM = the TTL (so negative answers are cached as long), and
    /// the record's own TTL at most 300 s.
    /// - Parameters:
    ///   - primaryNameServer, responsibleMailbox: the MNAME and RNAME; the cluster zone's by default
    ///     (an external zone names its own).
    func soaRecord(owner: DNSName, serial: UInt32, primaryNameServer: DNSName? = nil, responsibleMailbox: DNSName? = nil) -> ResourceRecord {
        let soa = StartOfAuthority(
            primaryNameServer: primaryNameServer ?? nameServerName, responsibleMailbox: responsibleMailbox ?? hostmasterName,
            serial: serial, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl)
        return ResourceRecord(name: owner, ttl: min(ttl, 300), data: .soa(soa))
    }

    /// The TXT record at `dns-version.<zone>` has this long a TTL in the spec's examples.
    static let versionTTL: UInt32 = 28800
    /// The schema version of the Kubernetes DNS-Based Service Discovery specification we implement.
    public static let schemaVersion = "1.1.0"
}

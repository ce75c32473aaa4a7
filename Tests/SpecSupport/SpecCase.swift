import ClusterZones
import DNSWire

/// One row of the spec table: a question and what a careful authoritative server answers. Every
/// row is asked of the catalog, of the pipeline on each answer path, of the listeners, and of the
/// binary with dig (`SpecResponse.mismatches` holds them all to the same expectations).
public struct SpecCase: Sendable, CustomStringConvertible {
    public var bullet: String
    /// The question name as the client spells it.
    public var name: String
    public var type: RecordType
    public var rcode: ResponseCode
    /// Answer records as dig prints them (whitespace-insensitive, order-insensitive). An owner
    /// equal to `name` is written as `name` spells it; every other name is lower case.
    public var answers: [String]
    /// Additional records expected (glue); nil means not checked.
    public var additional: [String]?
    public var podMode: PodMode

    public init(
        _ bullet: String, _ name: String, _ type: RecordType, _ rcode: ResponseCode = .noError, answers: [String] = [],
        additional: [String]? = nil, podMode: PodMode = .disabled
    ) {
        self.bullet = bullet
        self.name = name
        self.type = type
        self.rcode = rcode
        self.answers = answers
        self.additional = additional
        self.podMode = podMode
    }

    public var description: String { "\(bullet): \(name) \(type) → \(rcode)" }

    /// Negative answers (NXDOMAIN, or NODATA) carry the zone's SOA; REFUSED and NOTIMP carry nothing.
    public var expectsSOAInAuthority: Bool { rcode == .nameError || (rcode == .noError && answers.isEmpty) }

    /// We answer authoritatively for every name in our zones, except what we do not implement.
    public var expectsAuthoritative: Bool { rcode != .refused && rcode != .notImplemented }

    /// The apex of the zone the name lies in, lower case with the trailing dot.
    var zoneApex: String {
        let lower = name.lowercased()
        for apex in ["cluster.local", "in-addr.arpa", "ip6.arpa"] where lower == apex || lower.hasSuffix("." + apex) {
            return apex + "."
        }
        return "."
    }
}

/// The expected answers of the Kubernetes DNS-Based Service Discovery spec v1.1.0 for
/// `SpecFixture` (`spec-cluster/spec-cluster.yaml`), one row per behaviour.
public let specCases: [SpecCase] = [
    // ClusterIP services: A and AAAA from the ClusterIPs.
    SpecCase("ClusterIP A", "kubernetes.default.svc.cluster.local", .a, answers: ["kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1"]),
    SpecCase("ClusterIP v4-only AAAA is NODATA", "kubernetes.default.svc.cluster.local", .aaaa),
    SpecCase("Dual-stack A", "cart.shop.svc.cluster.local", .a, answers: ["cart.shop.svc.cluster.local. 5 IN A 10.96.0.30"]),
    SpecCase("Dual-stack AAAA", "cart.shop.svc.cluster.local", .aaaa, answers: ["cart.shop.svc.cluster.local. 5 IN AAAA fd00:10:96::30"]),
    SpecCase("NodePort A", "metrics.shop.svc.cluster.local", .a, answers: ["metrics.shop.svc.cluster.local. 5 IN A 10.96.0.53"]),
    SpecCase("Service TXT is NODATA", "api.shop.svc.cluster.local", .txt),
    // SRV.
    SpecCase("Named port SRV", "_https._tcp.kubernetes.default.svc.cluster.local", .srv,
             answers: ["_https._tcp.kubernetes.default.svc.cluster.local. 5 IN SRV 0 100 443 kubernetes.default.svc.cluster.local."],
             additional: ["kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1"]),
    SpecCase("Bare service SRV lists every port", "api.shop.svc.cluster.local", .srv,
             answers: ["api.shop.svc.cluster.local. 5 IN SRV 0 50 80 api.shop.svc.cluster.local.",
                       "api.shop.svc.cluster.local. 5 IN SRV 0 50 9090 api.shop.svc.cluster.local."],
             additional: ["api.shop.svc.cluster.local. 5 IN A 10.96.0.20"]),
    SpecCase("Bare SRV includes unnamed ports", "metrics.shop.svc.cluster.local", .srv,
             answers: ["metrics.shop.svc.cluster.local. 5 IN SRV 0 100 53 metrics.shop.svc.cluster.local."]),
    SpecCase("Dual-stack SRV has one record and both glue", "_http._tcp.cart.shop.svc.cluster.local", .srv,
             answers: ["_http._tcp.cart.shop.svc.cluster.local. 5 IN SRV 0 100 80 cart.shop.svc.cluster.local."],
             additional: ["cart.shop.svc.cluster.local. 5 IN A 10.96.0.30", "cart.shop.svc.cluster.local. 5 IN AAAA fd00:10:96::30"]),
    SpecCase("Wrong protocol SRV is NXDOMAIN", "_http._udp.api.shop.svc.cluster.local", .srv, .nameError),
    SpecCase("Unknown port SRV is NXDOMAIN", "_ftp._tcp.api.shop.svc.cluster.local", .srv, .nameError),
    SpecCase("SRV name has no A", "_http._tcp.api.shop.svc.cluster.local", .a),
    SpecCase("Protocol label alone is an empty non-terminal", "_tcp.api.shop.svc.cluster.local", .srv),
    SpecCase("Unnamed ports get no _port._proto name", "_udp.metrics.shop.svc.cluster.local", .srv, .nameError),
    // Headless services.
    SpecCase("Headless A per ready endpoint", "web.shop.svc.cluster.local", .a,
             answers: ["web.shop.svc.cluster.local. 5 IN A 10.244.2.10", "web.shop.svc.cluster.local. 5 IN A 10.244.2.11"]),
    SpecCase("Headless endpoint hostname", "web-0.web.shop.svc.cluster.local", .a, answers: ["web-0.web.shop.svc.cluster.local. 5 IN A 10.244.2.10"]),
    SpecCase("Headless not-ready endpoint has no name", "web-2.web.shop.svc.cluster.local", .a, .nameError),
    SpecCase("Headless SRV per endpoint and port, with glue", "_http._tcp.web.shop.svc.cluster.local", .srv,
             answers: ["_http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 50 8080 web-0.web.shop.svc.cluster.local.",
                       "_http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 50 8080 web-1.web.shop.svc.cluster.local."],
             additional: ["web-0.web.shop.svc.cluster.local. 5 IN A 10.244.2.10", "web-1.web.shop.svc.cluster.local. 5 IN A 10.244.2.11"]),
    SpecCase("Headless A with both families", "anon.shop.svc.cluster.local", .a, answers: ["anon.shop.svc.cluster.local. 5 IN A 10.244.3.7"]),
    SpecCase("Headless AAAA", "anon.shop.svc.cluster.local", .aaaa, answers: ["anon.shop.svc.cluster.local. 5 IN AAAA fd00:244::7"]),
    SpecCase("Endpoint without hostname answers at its dashed IP", "10-244-3-7.anon.shop.svc.cluster.local", .a,
             answers: ["10-244-3-7.anon.shop.svc.cluster.local. 5 IN A 10.244.3.7"]),
    SpecCase("IPv6 endpoint answers at its dashed IP", "fd00-244--7.anon.shop.svc.cluster.local", .aaaa,
             answers: ["fd00-244--7.anon.shop.svc.cluster.local. 5 IN AAAA fd00:244::7"]),
    SpecCase("Dashed-IP SRV targets", "_metrics._tcp.anon.shop.svc.cluster.local", .srv,
             answers: ["_metrics._tcp.anon.shop.svc.cluster.local. 5 IN SRV 0 50 9100 10-244-3-7.anon.shop.svc.cluster.local.",
                       "_metrics._tcp.anon.shop.svc.cluster.local. 5 IN SRV 0 50 9100 fd00-244--7.anon.shop.svc.cluster.local."]),
    SpecCase("Headless with no ready endpoints is NXDOMAIN", "empty.shop.svc.cluster.local", .a, .nameError),
    SpecCase("publishNotReadyAddresses publishes not-ready endpoints", "peers.shop.svc.cluster.local", .a,
             answers: ["peers.shop.svc.cluster.local. 5 IN A 10.244.4.4"]),
    SpecCase("publishNotReadyAddresses endpoint name", "peer-0.peers.shop.svc.cluster.local", .a,
             answers: ["peer-0.peers.shop.svc.cluster.local. 5 IN A 10.244.4.4"]),
    SpecCase("Endpoint names under a ClusterIP service", "10-244-1-5.api.shop.svc.cluster.local", .a,
             answers: ["10-244-1-5.api.shop.svc.cluster.local. 5 IN A 10.244.1.5"]),
    // RFC 8020: below a name that does not exist, nothing exists.
    SpecCase("RFC 8020: a protocol label below an NXDOMAIN headless service", "_tcp.empty.shop.svc.cluster.local", .srv, .nameError),
    SpecCase("RFC 8020: a port name below an NXDOMAIN headless service", "_http._tcp.empty.shop.svc.cluster.local", .srv, .nameError),
    SpecCase("RFC 8020: an endpoint name below an NXDOMAIN headless service", "10-244-5-5.empty.shop.svc.cluster.local", .a, .nameError),
    SpecCase("RFC 8020: below an unknown service", "x.nope.shop.svc.cluster.local", .a, .nameError),
    SpecCase("RFC 8020: below an unknown namespace", "api.nowhere.svc.cluster.local", .a, .nameError),
    SpecCase("RFC 8020: below an unknown reverse prefix", "1.2.3.4.5.in-addr.arpa", .ptr, .nameError),
    // ExternalName.
    SpecCase("ExternalName is a CNAME", "db.shop.svc.cluster.local", .a, answers: ["db.shop.svc.cluster.local. 5 IN CNAME db.example.com."]),
    SpecCase("ExternalName CNAME query", "db.shop.svc.cluster.local", .cname, answers: ["db.shop.svc.cluster.local. 5 IN CNAME db.example.com."]),
    SpecCase("ExternalName into the cluster zone carries the target's records", "alias.shop.svc.cluster.local", .a,
             answers: ["alias.shop.svc.cluster.local. 5 IN CNAME api.shop.svc.cluster.local.", "api.shop.svc.cluster.local. 5 IN A 10.96.0.20"]),
    SpecCase("Names below an ExternalName do not exist", "x.db.shop.svc.cluster.local", .a, .nameError),
    // Pods.
    SpecCase("Pods disabled: NXDOMAIN", "10-244-1-5.shop.pod.cluster.local", .a, .nameError),
    SpecCase("Pods insecure: any well-formed IP", "10-1-2-3.shop.pod.cluster.local", .a,
             answers: ["10-1-2-3.shop.pod.cluster.local. 5 IN A 10.1.2.3"], podMode: .insecure),
    SpecCase("Pods insecure: dashed IPv6", "fd00-1--5.shop.pod.cluster.local", .aaaa,
             answers: ["fd00-1--5.shop.pod.cluster.local. 5 IN AAAA fd00:1::5"], podMode: .insecure),
    SpecCase("Pods insecure: wrong family is NODATA", "10-1-2-3.shop.pod.cluster.local", .aaaa, podMode: .insecure),
    SpecCase("Pods insecure: malformed IP is NXDOMAIN", "10-1-2.shop.pod.cluster.local", .a, .nameError, podMode: .insecure),
    SpecCase("Pods verified: a pod's IP in its namespace", "10-244-1-5.shop.pod.cluster.local", .a,
             answers: ["10-244-1-5.shop.pod.cluster.local. 5 IN A 10.244.1.5"], podMode: .verified),
    SpecCase("Pods verified: an IP no pod has", "10-1-2-3.shop.pod.cluster.local", .a, .nameError, podMode: .verified),
    SpecCase("Pods verified: a pod's IP in another namespace", "10-244-1-5.default.pod.cluster.local", .a, .nameError, podMode: .verified),
    // PTR.
    SpecCase("PTR of a ClusterIP", "1.0.96.10.in-addr.arpa", .ptr, answers: ["1.0.96.10.in-addr.arpa. 5 IN PTR kubernetes.default.svc.cluster.local."]),
    SpecCase("PTR of an IPv6 ClusterIP", "0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa", .ptr,
             answers: ["0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa. 5 IN PTR cart.shop.svc.cluster.local."]),
    SpecCase("PTR of a headless endpoint with hostname", "10.2.244.10.in-addr.arpa", .ptr,
             answers: ["10.2.244.10.in-addr.arpa. 5 IN PTR web-0.web.shop.svc.cluster.local."]),
    SpecCase("PTR of an endpoint without hostname", "5.1.244.10.in-addr.arpa", .ptr,
             answers: ["5.1.244.10.in-addr.arpa. 5 IN PTR 10-244-1-5.api.shop.svc.cluster.local."]),
    SpecCase("PTR of a not-ready endpoint is NXDOMAIN", "12.2.244.10.in-addr.arpa", .ptr, .nameError),
    SpecCase("PTR of an unknown IP is NXDOMAIN", "9.9.9.9.in-addr.arpa", .ptr, .nameError),
    SpecCase("A partial reverse name is an empty non-terminal", "96.10.in-addr.arpa", .ptr),
    SpecCase("Reverse apex SOA", "in-addr.arpa", .soa,
             answers: ["in-addr.arpa. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5"]),
    // The apex.
    SpecCase("Apex SOA", "cluster.local", .soa,
             answers: ["cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5"]),
    SpecCase("Apex NS with glue", "cluster.local", .ns, answers: ["cluster.local. 5 IN NS ns.dns.cluster.local."],
             additional: ["ns.dns.cluster.local. 5 IN A 127.0.0.1"]),
    SpecCase("Apex A is NODATA", "cluster.local", .a),
    SpecCase("Name server address", "ns.dns.cluster.local", .a, answers: ["ns.dns.cluster.local. 5 IN A 127.0.0.1"]),
    SpecCase("Schema version", "dns-version.cluster.local", .txt, answers: ["dns-version.cluster.local. 28800 IN TXT \"1.1.0\""]),
    // Negative answers.
    SpecCase("Namespace name is NODATA", "shop.svc.cluster.local", .a),
    SpecCase("Namespace without services is NODATA", "quiet.svc.cluster.local", .a),
    SpecCase("Unknown namespace is NXDOMAIN", "nowhere.svc.cluster.local", .a, .nameError),
    SpecCase("svc.<zone> is NODATA", "svc.cluster.local", .a),
    SpecCase("Unknown service is NXDOMAIN", "nope.shop.svc.cluster.local", .a, .nameError),
    SpecCase("Search-path expansion of a service name", "api.shop.svc.cluster.local.shop.svc.cluster.local", .a, .nameError),
    SpecCase("Search-path expansion of an external name", "google.com.shop.svc.cluster.local", .a, .nameError),
    SpecCase("Unknown top-level label in the zone", "other.cluster.local", .a, .nameError),
    // ANY (RFC 8482): one HINFO at every kind of existing name, NXDOMAIN where nothing exists.
    SpecCase("ANY at a service", "api.shop.svc.cluster.local", .any, answers: ["api.shop.svc.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at the cluster apex", "cluster.local", .any, answers: ["cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at svc.<zone>", "svc.cluster.local", .any, answers: ["svc.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at a namespace", "shop.svc.cluster.local", .any, answers: ["shop.svc.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at an endpoint", "web-0.web.shop.svc.cluster.local", .any,
             answers: ["web-0.web.shop.svc.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at a port name", "_http._tcp.api.shop.svc.cluster.local", .any,
             answers: ["_http._tcp.api.shop.svc.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at a protocol label", "_tcp.api.shop.svc.cluster.local", .any,
             answers: ["_tcp.api.shop.svc.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at an ExternalName", "db.shop.svc.cluster.local", .any, answers: ["db.shop.svc.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at the schema version", "dns-version.cluster.local", .any, answers: ["dns-version.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at the name server", "ns.dns.cluster.local", .any, answers: ["ns.dns.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at a pod", "10-1-2-3.shop.pod.cluster.local", .any, answers: ["10-1-2-3.shop.pod.cluster.local. 5 IN HINFO \"RFC8482\" \"\""],
             podMode: .insecure),
    SpecCase("ANY at the in-addr.arpa apex", "in-addr.arpa", .any, answers: ["in-addr.arpa. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at the ip6.arpa apex", "ip6.arpa", .any, answers: ["ip6.arpa. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at a partial reverse name", "96.10.in-addr.arpa", .any, answers: ["96.10.in-addr.arpa. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at a PTR name", "1.0.96.10.in-addr.arpa", .any, answers: ["1.0.96.10.in-addr.arpa. 5 IN HINFO \"RFC8482\" \"\""]),
    SpecCase("ANY at a name that does not exist", "nope.shop.svc.cluster.local", .any, .nameError),
    SpecCase("ANY at an unknown address", "9.9.9.9.in-addr.arpa", .any, .nameError),
    // Other meta types: no name has records of them (NODATA). Zone transfers differ by transport
    // (NOTIMP over UDP, the transfer path over TCP): ZoneTransferTests and TransferEndToEndTests.
    SpecCase("TSIG as a question type is NODATA", "api.shop.svc.cluster.local", RecordType(250)),
    SpecCase("MAILB as a question type is NODATA", "kubernetes.default.svc.cluster.local", RecordType(253)),
    // Case: names match without case; the question and owners equal to it keep the client's
    // spelling, every other name is lower case.
    SpecCase("Mixed case A", "ApI.sHoP.SvC.cLuStEr.LoCaL", .a, answers: ["ApI.sHoP.SvC.cLuStEr.LoCaL. 5 IN A 10.96.0.20"]),
    SpecCase("Mixed case SRV: targets and glue in lower case", "_HtTp._TcP.ApI.sHoP.svc.CLUSTER.local", .srv,
             answers: ["_HtTp._TcP.ApI.sHoP.svc.CLUSTER.local. 5 IN SRV 0 100 80 api.shop.svc.cluster.local."],
             additional: ["api.shop.svc.cluster.local. 5 IN A 10.96.0.20"]),
    SpecCase("Mixed case NODATA: the SOA in lower case", "KUBERNETES.default.svc.CLUSTER.local", .aaaa),
    SpecCase("Mixed case NXDOMAIN: the SOA in lower case", "NOPE.shop.svc.CLUSTER.local", .a, .nameError),
    SpecCase("Mixed case apex: the SOA owner is the question", "Cluster.LOCAL", .soa,
             answers: ["Cluster.LOCAL. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5"]),
    SpecCase("Mixed case CNAME chain", "ALIAS.shop.svc.cluster.local", .a,
             answers: ["ALIAS.shop.svc.cluster.local. 5 IN CNAME api.shop.svc.cluster.local.", "api.shop.svc.cluster.local. 5 IN A 10.96.0.20"]),
    SpecCase("Mixed case PTR", "1.0.96.10.IN-ADDR.arpa", .ptr, answers: ["1.0.96.10.IN-ADDR.arpa. 5 IN PTR kubernetes.default.svc.cluster.local."]),
    SpecCase("Outside every zone is REFUSED", "example.com", .a, .refused),
]

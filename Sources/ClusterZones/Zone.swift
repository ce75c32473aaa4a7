import DNSWire

/// A zone the catalog routes questions to by longest origin. A zone only says what exists at a
/// name and what records it has; the rules every zone shares (ANY, transfers, meta types, case)
/// are the catalog's, so they cannot differ from zone to zone.
public protocol Zone: Sendable {
    /// The apex, in lower case.
    var origin: DNSName { get }

    /// The answer to a question whose name lies inside the zone, in lower case. A type the name
    /// has no records of (ANY and the other meta types included) gets NODATA; a name that does
    /// not exist, or lies below one that does not (RFC 8020), gets NXDOMAIN.
    func answer(_ question: DNSQuestion) -> Answer

    /// Every record of the zone in AXFR order (RFC 5936 §2.2): the SOA first, then the rest,
    /// without the closing SOA, which the transport adds. What `clusterdns export` writes too.
    func transferRecords() -> [ResourceRecord]
}

extension Zone {
    /// The SOA the zone answers at its apex, as it stands now (nil while it answers none, e.g.
    /// SERVFAIL): what frames its transfers and what a NOTIFY announces.
    public var apexSOA: ResourceRecord? {
        answer(DNSQuestion(name: origin, type: .soa)).answers.first
    }
}

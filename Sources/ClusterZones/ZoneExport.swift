import DNSWire
import ServiceRegistry

/// One zone the catalog serves, written out as the records a master file holds: the SOA first,
/// the apex NS next, then every name the zone synthesizes.
public struct ExportedZone: Sendable {
    public let origin: DNSName
    public let records: [ResourceRecord]

    /// `cluster.local.zone`, `in-addr.arpa.zone`, `ip6.arpa.zone`.
    public var fileName: String {
        String(origin.description.dropLast()) + ".zone"
    }

    /// RFC 1035 master-file text: `$ORIGIN`, then one absolute `name ttl class type rdata` line per record.
    public var masterFile: String {
        var text = "; \(origin) as ClusterDNS synthesizes it (\(records.count) records)\n$ORIGIN \(origin)\n"
        text.reserveCapacity(text.utf8.count + records.count * 80)
        for record in records {
            text += record.description
            text += "\n"
        }
        return text
    }
}

/// Why a catalog cannot be written as master files.
public struct ZoneExportError: Error, Hashable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Enumerates every record the cluster zone and the reverse zones synthesize for a snapshot, so
/// that Knot DNS or NSD can serve exactly the same data (the side-by-side benchmarks of issue 4).
///
/// Each record comes from `Catalog.answer` itself: for every name the zones hold, the exporter asks
/// the catalog each record type it can synthesize and keeps the answers owned by that name. A rule
/// of the spec therefore lives only in the zones, never here. What a master file cannot say:
/// - CNAME chasing and SRV glue are the serving server's work, so only the CNAME itself is written.
/// - Names that exist without records of their own (a namespace with no Services, `ns.dns.<zone>`
///   without name-server addresses, `_port._proto` of a headless Service whose endpoints serve no
///   such port) are NOERROR/NODATA here and NXDOMAIN in a master file.
/// - `ANY` gets the RFC 8482 HINFO from ClusterDNS and the whole RRset list from file servers.
/// - Pod names in `insecure` mode are every dashed IP, which no file can list (an error).
public enum ZoneExport {
    /// The cluster zone first, then `in-addr.arpa` and `ip6.arpa`.
    public static func zones(of catalog: Catalog) throws(ZoneExportError) -> [ExportedZone] {
        if catalog.configuration.podMode == .insecure {
            throw ZoneExportError(reason: "pod mode insecure answers every dashed IP under <ns>.pod.<zone>; such a zone cannot be written as a file (use disabled or verified)")
        }
        var cluster = Collector(catalog: catalog)
        catalog.forEachClusterZoneName { cluster.collect($0, types: $1) }
        var zones = [ExportedZone(origin: catalog.clusterZone.origin, records: cluster.records)]
        for zone in catalog.reverseZones {
            var reverse = Collector(catalog: catalog)
            catalog.forEachName(in: zone) { reverse.collect($0, types: $1) }
            zones.append(ExportedZone(origin: zone.origin, records: reverse.records))
        }
        return zones
    }

    /// `d.c.b.a.in-addr.arpa.` or the 32 nibbles under `ip6.arpa.`.
    public static func reverseName(of address: IPAddress) -> DNSName? {
        DNSName.reverseLookupName(ofAddress: address.bytes)
    }

    /// Asks the catalog for each type at each name once, and keeps what the name owns.
    private struct Collector {
        let catalog: Catalog
        var records: [ResourceRecord] = []
        var visited = Set<DNSName>()

        mutating func collect(_ name: DNSName, types: [RecordType]) {
            guard visited.insert(name).inserted else { return }
            for (type, answer) in zip(types, catalog.answers(at: name, types: types)) {
                guard answer.responseCode == .noError else { return }
                records += answer.answers.filter { $0.type == type && $0.name == name }
            }
        }
    }
}

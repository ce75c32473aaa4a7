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
    /// The cluster zone first, then `in-addr.arpa` and `ip6.arpa`: each zone's `transferRecords`.
    public static func zones(of catalog: Catalog) throws(ZoneExportError) -> [ExportedZone] {
        if catalog.configuration.podMode == .insecure {
            throw ZoneExportError(reason: "pod mode insecure answers every dashed IP under <ns>.pod.<zone>; such a zone cannot be written as a file (use disabled or verified)")
        }
        return ([catalog.clusterZone as any Zone] + catalog.reverseZones).map { ExportedZone(origin: $0.origin, records: $0.transferRecords()) }
    }

    /// `d.c.b.a.in-addr.arpa.` or the 32 nibbles under `ip6.arpa.`.
    public static func reverseName(of address: IPAddress) -> DNSName? {
        DNSName.reverseLookupName(ofAddress: address.bytes)
    }

    /// Asks a zone for each type at each name once, and keeps what the name owns: how a zone
    /// lists its records for a transfer or a master file from its own answers.
    struct Collector {
        var records: [ResourceRecord] = []
        private var visited = Set<DNSName>()

        /// Keeps the records `answers` (one per type, in the order of `types`) give at `name`.
        mutating func collect(_ name: DNSName, types: [RecordType], answers: ([RecordType]) -> [Answer]) {
            guard visited.insert(name).inserted else { return }
            // Type by type: an ExternalName asked A answers its target's NXDOMAIN, and still owns its CNAME.
            for (type, answer) in zip(types, answers(types)) where answer.responseCode == .noError {
                records += answer.answers.filter { $0.type == type && $0.name == name }
            }
        }
    }
}

extension ClusterZone {
    /// The zone in AXFR order: SOA, apex NS, then every name's records, Service by Service. Pod
    /// names of `insecure` mode are every dashed IP and are not listed (as CoreDNS leaves them out).
    public func transferRecords() -> [ResourceRecord] {
        var collector = ZoneExport.Collector()
        forEachName(services: snapshot.services) { name, types, node in
            collector.collect(name, types: types) { answers(at: name, resolvedTo: node ?? resolve(name), types: $0) }
        }
        return collector.records
    }
}

extension ReverseZone {
    /// The zone in AXFR order: SOA, NS, then the PTR records in address order.
    public func transferRecords() -> [ResourceRecord] {
        var collector = ZoneExport.Collector()
        forEachName { name, types in
            collector.collect(name, types: types) { $0.map { answer(DNSQuestion(name: name, type: $0)) } }
        }
        return collector.records
    }
}

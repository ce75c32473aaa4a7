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
    /// Types a synthesized name can hold, in the order they are written.
    static let addressTypes: [RecordType] = [.a, .aaaa]

    /// The cluster zone first, then `in-addr.arpa` and `ip6.arpa`.
    public static func zones(of catalog: Catalog) throws(ZoneExportError) -> [ExportedZone] {
        if catalog.configuration.podMode == .insecure {
            throw ZoneExportError(reason: "pod mode insecure answers every dashed IP under <ns>.pod.<zone>; such a zone cannot be written as a file (use disabled or verified)")
        }
        return [clusterZone(of: catalog)] + catalog.reverseZones.map { reverseZone($0, of: catalog) }
    }

    /// The cluster zone: SOA, NS, name-server addresses, `dns-version` TXT, then each Service by
    /// namespace and name with its `_port._proto` names and endpoint names, then verified pod names.
    static func clusterZone(of catalog: Catalog) -> ExportedZone {
        let zone = catalog.clusterZone
        let snapshot = catalog.snapshot
        var collector = Collector(catalog: catalog)
        let origin = zone.origin
        collector.collect(origin, types: [.soa, .ns])
        if let nameServer = try? origin.prepending("dns").prepending("ns") {
            collector.collect(nameServer, types: addressTypes)
        }
        if let version = try? origin.prepending("dns-version") {
            collector.collect(version, types: [.txt])
        }
        for service in snapshot.services {
            guard let serviceName = name([service.name, service.namespace, "svc"], in: origin) else { continue }
            if service.type == .externalName {
                collector.collect(serviceName, types: [.cname])
                continue
            }
            collector.collect(serviceName, types: addressTypes + [.srv])
            var seenPorts = Set<String>()
            for port in service.ports where !port.name.isEmpty {
                let labels = ["_" + port.name, "_" + port.protocol.lowercased]
                guard seenPorts.insert(labels.joined(separator: ".").lowercased()).inserted,
                    let portName = name(labels, in: serviceName)
                else { continue }
                collector.collect(portName, types: [.srv])
            }
            var seenLabels = Set<String>()
            for endpoint in catalog.clusterZone.published.endpoints(of: service) where seenLabels.insert(endpoint.label).inserted {
                if let endpointName = name([endpoint.label], in: serviceName) {
                    collector.collect(endpointName, types: addressTypes)
                }
            }
        }
        if catalog.configuration.podMode == .verified {
            for pod in snapshot.pods {
                for address in pod.podIPs {
                    if let podName = name([address.dashed, pod.namespace, "pod"], in: origin) {
                        collector.collect(podName, types: addressTypes)
                    }
                }
            }
        }
        return ExportedZone(origin: origin, records: collector.records)
    }

    /// A reverse zone: SOA, NS, then one PTR RRset per known address of its family, in address order.
    static func reverseZone(_ zone: ReverseZone, of catalog: Catalog) -> ExportedZone {
        var collector = Collector(catalog: catalog)
        collector.collect(zone.origin, types: [.soa, .ns])
        let addresses = ReverseZone.ptrTargets(snapshot: catalog.snapshot, domain: catalog.configuration.domain, published: catalog.clusterZone.published).keys.sorted()
        for address in addresses {
            guard let owner = reverseName(of: address), owner.isSubdomain(of: zone.origin) else { continue }
            collector.collect(owner, types: [.ptr])
        }
        return ExportedZone(origin: zone.origin, records: collector.records)
    }

    /// `d.c.b.a.in-addr.arpa.` or the 32 nibbles under `ip6.arpa.`.
    public static func reverseName(of address: IPAddress) -> DNSName? {
        let bytes = address.bytes
        var labels: [String]
        if address.isIPv4 {
            labels = bytes.reversed().map { String($0) } + ["in-addr", "arpa"]
        } else {
            labels = []
            for byte in bytes.reversed() {
                labels.append(String(byte & 0x0f, radix: 16))
                labels.append(String(byte >> 4, radix: 16))
            }
            labels += ["ip6", "arpa"]
        }
        return try? DNSName(labels: labels.map { Array($0.utf8) })
    }

    /// `labels` (most specific first) in front of `parent`, lower-cased.
    private static func name(_ labels: [String], in parent: DNSName) -> DNSName? {
        var result = parent
        for label in labels.reversed() {
            guard let longer = try? result.prepending(label.lowercased()) else { return nil }
            result = longer
        }
        return result
    }

    /// Asks the catalog for each type at each name once, and keeps what the name owns.
    private struct Collector {
        let catalog: Catalog
        var records: [ResourceRecord] = []
        var visited = Set<DNSName>()

        mutating func collect(_ name: DNSName, types: [RecordType]) {
            guard visited.insert(name).inserted else { return }
            for type in types {
                let answer = catalog.answer(DNSQuestion(name: name, type: type))
                guard answer.responseCode == .noError else { return }
                records += answer.answers.filter { $0.type == type && $0.name == name }
            }
        }
    }
}

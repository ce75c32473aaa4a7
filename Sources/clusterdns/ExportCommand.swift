import ArgumentParser
import ClusterZones
import DNSWire
import Foundation
import ServiceRegistry

/// `clusterdns export`: the zones ClusterDNS synthesizes for a registry, as RFC 1035 master files,
/// so that Knot DNS or NSD can serve exactly the same records (side-by-side benchmarks), or so a
/// person can read what the server would answer.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the cluster zone and the reverse zones as RFC 1035 master files.",
        discussion: """
            Writes <domain>.zone, in-addr.arpa.zone and ip6.arpa.zone into --output. Every record \
            is what `clusterdns serve` answers for the same registry and options. A file cannot hold \
            what is computed per query: CNAME chasing and SRV glue (the serving server does those), \
            names that exist without records (a namespace with no Services), and pod names in \
            insecure mode (refused here).
            """
    )

    @Option(name: .long, help: "A manifest file or directory; repeat for several. Default: the example cluster, as serve.")
    var registry: [String] = []

    @Option(name: .long, help: "The cluster domain.")
    var domain: String = "cluster.local"

    @Option(name: [.short, .long], help: "The directory the zone files are written to (created if missing).")
    var output: String = "."

    @Option(name: .long, help: "TTL of every record, and the SOA minimum.")
    var ttl: UInt32 = 5

    @Option(name: .long, help: "Pod names: disabled or verified (insecure cannot be written as a file).")
    var pods: String = "disabled"

    @Option(name: .long, help: "An address of ns.dns.<domain> (serve uses its --listen host); repeat for several.")
    var nameServerAddress: [String] = []

    @OptionGroup var cidrs: ServiceCIDROptions

    func validate() throws {
        _ = try zoneConfiguration()
    }

    func run() throws {
        let configuration = try zoneConfiguration()
        let paths = try ExampleCluster.paths(or: registry)
        let loaded = ManifestLoader.load(paths: paths, options: cidrs.registryOptions)
        guard loaded.isValid else {
            FileHandle.standardError.write(Data((loaded.report + "\n").utf8))
            throw ExitCode.failure
        }
        let catalog = Catalog(snapshot: loaded.snapshot, configuration: configuration)
        let zones: [ExportedZone]
        do {
            zones = try ZoneExport.zones(of: catalog)
        } catch {
            warn(error.reason)
            throw ExitCode.failure
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        for zone in zones {
            let path = (output as NSString).appendingPathComponent(zone.fileName)
            guard FileManager.default.createFile(atPath: path, contents: Data(zone.masterFile.utf8)) else {
                warn("cannot write \(path)")
                throw ExitCode.failure
            }
            FileHandle.standardError.write(Data("wrote \(path): \(zone.records.count) records\n".utf8))
        }
    }

    private func zoneConfiguration() throws -> ZoneConfiguration {
        let origin: DNSName
        do {
            origin = try DNSName(domain)
        } catch {
            throw ValidationError("--domain '\(domain)' is not a domain name: \(error)")
        }
        guard !origin.isRoot else { throw ValidationError("--domain must not be the root") }
        guard let podMode = PodMode(rawValue: pods) else {
            throw ValidationError("--pods '\(pods)' is not one of disabled, verified (insecure cannot be exported)")
        }
        guard podMode != .insecure else {
            throw ValidationError("--pods insecure answers every dashed IP, which no zone file can list; use disabled or verified")
        }
        let addresses = try nameServerAddress.map { text in
            guard let address = IPAddress(text) else { throw ValidationError("--name-server-address '\(text)' is not an IP address") }
            return address
        }
        return ZoneConfiguration(domain: origin, ttl: ttl, podMode: podMode, nameServerAddresses: addresses)
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data("clusterdns export: \(message)\n".utf8))
    }
}

import ArgumentParser
import ClusterZones
import DNSWire
import Foundation
import ServiceRegistry

/// `clusterdns check`: validates a registry the way `serve` would load it, so a broken manifest is
/// caught before it reaches a running server (where it would be ignored until fixed).
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate Kubernetes manifests as a ClusterDNS registry and summarize them.",
        discussion: """
            Reads files and directories (recursively: *.yaml, *.yml, *.json) of Services, \
            EndpointSlices, Endpoints, Pods and Namespaces, as kubectl prints them; other kinds are \
            skipped. Every error is printed to stderr as FILE:LINE: OBJECT: FIELD: PROBLEM, and every \
            warning as FILE:LINE: warning: OBJECT: FIELD: PROBLEM, then a summary to stdout. An object \
            with an error is left out; a warning is a departure from the API server's validation that \
            is served anyway. Every *.zone file in the directories (and each --zone-file) is read \
            as serve reads a static zone, with libldns; its errors are printed as FILE:LINE: PROBLEM. \
            Exits 1 when there is any error (with --strict, any warning too).
            """
    )

    @Argument(help: ArgumentHelp("Manifest files or directories.", valueName: "path"))
    var paths: [String]

    @Flag(help: "Treat warnings (what the API server would reject but ClusterDNS can serve) as errors.")
    var strict = false

    @OptionGroup var cidrs: ServiceCIDROptions

    @Option(name: .customLong("zone-file"), help: ArgumentHelp("A static zone file to check, as serve takes it (repeatable).", valueName: "ORIGIN=PATH"))
    var zoneFiles: [String] = []

    @Option(help: "The cluster domain serve is given: a static zone may not lie inside it.")
    var domain: String = "cluster.local"

    func run() throws {
        let zonesValid = try checkStaticZones()
        let result = ManifestLoader.load(paths: paths, options: cidrs.registryOptions)
        if !result.errorLines.isEmpty {
            FileHandle.standardError.write(Data((result.errorLines.joined(separator: "\n") + "\n").utf8))
        }
        FileHandle.standardOutput.write(Data((result.summary.description + "\n").utf8))
        if !result.isValid(strict: strict) || !zonesValid { throw ExitCode(1) }
    }

    /// Reads the static zone files as serve would, printing each error; false when there was one.
    private func checkStaticZones() throws -> Bool {
        guard let domain = try? DNSName(domain) else { throw ValidationError("--domain \(domain) is not a domain name") }
        let named = try zoneFiles.map { argument in
            guard let file = StaticZoneFile(argument: argument) else { throw ValidationError("--zone-file \(argument) is not ORIGIN=PATH") }
            return file
        }
        let loader = StaticZoneLoader(registryPaths: paths, namedFiles: named, configuration: ZoneConfiguration(domain: domain))
        guard let reading = loader.read(forced: true) else { return true }
        if !reading.errors.isEmpty {
            FileHandle.standardError.write(Data((reading.errors.map(\.description).joined(separator: "\n") + "\n").utf8))
        }
        let zones = reading.zones.map { "\($0.origin) (\($0.transferRecords().count) records)" }
        FileHandle.standardOutput.write(Data("static zones: \(zones.isEmpty ? "none" : zones.joined(separator: ", "))\n".utf8))
        return reading.errors.isEmpty
    }
}

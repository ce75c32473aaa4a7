import ArgumentParser
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
            is served anyway. Exits 1 when there is any error (with --strict, any warning too).
            """
    )

    @Argument(help: ArgumentHelp("Manifest files or directories.", valueName: "path"))
    var paths: [String]

    @Flag(help: "Treat warnings (what the API server would reject but ClusterDNS can serve) as errors.")
    var strict = false

    @OptionGroup var cidrs: ServiceCIDROptions

    func run() throws {
        let result = ManifestLoader.load(paths: paths, options: cidrs.registryOptions)
        if !result.errorLines.isEmpty {
            FileHandle.standardError.write(Data((result.errorLines.joined(separator: "\n") + "\n").utf8))
        }
        FileHandle.standardOutput.write(Data((result.summary.description + "\n").utf8))
        if !result.isValid(strict: strict) { throw ExitCode(1) }
    }
}

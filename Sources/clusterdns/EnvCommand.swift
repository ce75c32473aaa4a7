import ArgumentParser
import Foundation
import ServiceEnv
import ServiceRegistry

/// `clusterdns env`: the variables the kubelet would inject into a pod, so a container started
/// outside Kubernetes (docker run, a test harness, a systemd unit) sees what it would in the cluster.
struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Print (or run a program with) the service environment variables the kubelet would set for a pod.",
        discussion: """
            Services are ordered by name (the kubelet leaves the order unspecified). When two services \
            produce the same variable name, the later one in that order wins and a warning names both.

            With `-- program args...` the program replaces this process; variables already set in the \
            current environment win over service variables.
            """
    )

    @Option(name: .long, help: "A manifest file or directory; repeat for several. Default: the example cluster in zones/.")
    var registry: [String] = []

    @Option(name: [.short, .long], help: "The pod's namespace. (default: default, or the --pod's namespace)")
    var namespace: String?

    @Option(name: .long, help: "Take the namespace and enableServiceLinks from this Pod of the registry.")
    var pod: String?

    @Flag(name: .long, help: "Act as enableServiceLinks: false: only the kubernetes service of the default namespace.")
    var noServiceLinks = false

    @Option(name: .long, help: "How to print the variables: shell (export lines), env-file (docker --env-file) or json.")
    var format: EnvironmentFormat = .shell

    @OptionGroup var cidrs: ServiceCIDROptions

    @Argument(parsing: .postTerminator, help: "After `--`: a program and its arguments to run with the variables set.")
    var command: [String] = []

    func run() throws {
        let paths = try ExampleCluster.paths(or: registry)
        let loaded = ManifestLoader.load(paths: paths, options: cidrs.registryOptions)
        guard loaded.isValid else {
            FileHandle.standardError.write(Data((loaded.report + "\n").utf8))
            throw ExitCode.failure
        }
        let target = try PodTarget.resolve(
            in: loaded.snapshot, namespace: namespace, podName: pod, serviceLinksDisabled: noServiceLinks
        )
        let environment = ServiceEnvironment(
            snapshot: loaded.snapshot, namespace: target.namespace, enableServiceLinks: target.enableServiceLinks
        )
        for collision in environment.collisions {
            warn("warning: \(collision)")
        }
        guard command.isEmpty else {
            do {
                try ProgramLauncher.exec(command, environment: environment.merged(into: ProgramLauncher.currentEnvironment()))
            } catch {
                // The shell's convention: 127 when the program is not found, 126 when it cannot run.
                warn(error.reason)
                throw ExitCode(error.code == .programNotFound ? 127 : 126)
            }
        }
        FileHandle.standardOutput.write(Data(try format.render(environment.variables).utf8))
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data("clusterdns env: \(message)\n".utf8))
    }
}

extension EnvironmentFormat: ExpressibleByArgument {}

import ArgumentParser

/// The `clusterdns` command: serve the cluster's DNS, check a registry, print service env vars.
@main
struct ClusterDNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusterdns",
        abstract: "An in-cluster DNS server for Kubernetes-style service discovery.",
        subcommands: [ServeCommand.self, CheckCommand.self, EnvCommand.self, ExportCommand.self, RegistryCommand.self]
    )
}

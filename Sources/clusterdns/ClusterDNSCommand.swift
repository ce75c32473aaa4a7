import ArgumentParser

/// The `clusterdns` command: serve the cluster's DNS, check a registry, print service env vars.
@main
struct ClusterDNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusterdns",
        abstract: "An in-cluster DNS server for Kubernetes-style service discovery.",
        subcommands: [ServeCommand.self, CheckCommand.self, EnvCommand.self, ExportCommand.self, RegistryCommand.self]
    )

    /// ArgumentParser's main, with `serve --config FILE` expanded into arguments first.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command: any ParsableCommand
            if arguments.first == "serve", let path = ServeConfigFile.configPath(in: arguments) {
                let expanded = ["serve"] + (try ServeConfigFile.expand(serveArguments: Array(arguments.dropFirst())))
                ServeCommand.runningSettings.withLock { $0 = ServeConfigFile.settings(of: Array(expanded.dropFirst())) }
                do {
                    command = try parseAsRoot(expanded)
                } catch {
                    // The command line alone parses: the file's settings are what is wrong.
                    guard (try? parseAsRoot(arguments)) != nil else { throw error }
                    throw ServeConfigFile.Invalid(description: "--config \(path): \(ServeCommand.message(for: error))")
                }
            } else {
                command = try parseAsRoot(arguments)
            }
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

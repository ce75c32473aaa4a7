import ArgumentParser
import EtcdRegistry
import Foundation
import Logging
import ServiceRegistry
import Yams

/// `clusterdns registry`: the registry in etcd, written and read as kubectl does against the API
/// server, so a cluster of `serve --etcd` replicas can be fed without Kubernetes.
struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Apply, get and delete registry objects in etcd (what serve --etcd reads).",
        subcommands: [Apply.self, Get.self, Delete.self]
    )

    /// The kinds by the names kubectl takes for them.
    static func kind(named text: String) -> String? {
        switch text.lowercased() {
        case "service", "services", "svc": return "Service"
        case "endpointslice", "endpointslices", "endpointslices.discovery.k8s.io", "endpointslice.discovery.k8s.io": return "EndpointSlice"
        case "endpoints", "ep": return "Endpoints"
        case "pod", "pods", "po": return "Pod"
        case "namespace", "namespaces", "ns": return "Namespace"
        default: return nil
        }
    }

    static func quietLogger() -> Logger {
        var logger = Logger(label: "clusterdns.registry")
        logger.logLevel = .warning
        return logger
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Writes each item in order, printing an error for each that fails and going on; exits 1
    /// when any failed (`body` returns false for a failure it reported itself).
    static func write<Item>(_ items: [Item], etcd: EtcdOptions, serviceCIDR: IPNetwork, _ body: (RegistryWriter, Item) async throws -> Bool) async throws {
        let failed = try await etcd.withClient(logger: quietLogger()) { client in
            let writer = RegistryWriter(client: client, layout: etcd.layout, serviceCIDR: serviceCIDR)
            var failed = false
            for item in items {
                do {
                    if try await !body(writer, item) { failed = true }
                } catch {
                    printError("error: \(error)")
                    failed = true
                }
            }
            return failed
        }
        if failed { throw ExitCode(1) }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate manifests as check does, then write each object into etcd (created, configured or unchanged).",
            discussion: """
                Nothing is written when any object has an error. Each object is written with a \
                compare-and-swap on the revision it was read at; a Service without a ClusterIP gets \
                one from --service-cidr in the same transaction (and keeps the one it has).
                """
        )

        @Option(name: .customShort("f"), help: ArgumentHelp("Manifest file or directory (repeatable).", valueName: "path"))
        var paths: [String]

        @OptionGroup var etcd: EtcdOptions
        @OptionGroup var cidrs: ServiceCIDROptions

        func validate() throws {
            guard !etcd.endpoints.isEmpty else { throw ValidationError("--etcd is required") }
        }

        func run() async throws {
            let loaded = ManifestLoader.load(paths: paths, options: cidrs.registryOptions)
            if !loaded.errorLines.isEmpty { printError(loaded.errorLines.joined(separator: "\n")) }
            guard loaded.isValid(strict: false), !loaded.files.isEmpty else {
                printError("error: nothing written: fix the errors above (clusterdns check shows the same)")
                throw ExitCode(1)
            }
            let read = ManifestObjects.read(files: loaded.files)
            for error in read.errors { printError("error: \(error)") }
            guard read.errors.isEmpty else { throw ExitCode(1) }
            for skipped in read.skipped { printError("skipped \(skipped): not a kind the registry stores") }

            let cidr = cidrs.registryOptions.serviceCIDRs.first(where: \.isIPv4) ?? cidrs.registryOptions.serviceCIDRs[0]
            try await RegistryCommand.write(read.objects, etcd: etcd, serviceCIDR: cidr) { writer, object in
                let outcome = try await writer.apply(object)
                print("\(object.reference.kubectlName) \(outcome.rawValue)")
                return true
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the objects of manifests (-f), or one object: delete KIND NAME [-n NS]."
        )

        @Option(name: .customShort("f"), help: ArgumentHelp("Manifest file or directory whose objects to delete (repeatable).", valueName: "path"))
        var paths: [String] = []

        @Argument(help: "KIND NAME, when no -f is given.")
        var target: [String] = []

        @Option(name: .shortAndLong, help: "Namespace of KIND NAME.")
        var namespace: String = "default"

        @OptionGroup var etcd: EtcdOptions

        func validate() throws {
            guard !etcd.endpoints.isEmpty else { throw ValidationError("--etcd is required") }
            if paths.isEmpty {
                guard target.count == 2 else { throw ValidationError("give -f PATH, or KIND NAME") }
                guard RegistryCommand.kind(named: target[0]) != nil else {
                    throw ValidationError("unknown kind '\(target[0])' (services, endpointslices, endpoints, pods, namespaces)")
                }
            } else if !target.isEmpty {
                throw ValidationError("give -f PATH or KIND NAME, not both")
            }
        }

        func run() async throws {
            var references: [ObjectReference] = []
            if paths.isEmpty, let kind = RegistryCommand.kind(named: target[0]) {
                references = [ObjectReference(kind: kind, namespace: kind == "Namespace" ? "" : namespace, name: target[1])]
            } else {
                let loaded = ManifestLoader.load(paths: paths)
                let read = ManifestObjects.read(files: loaded.files)
                for error in read.errors { printError("error: \(error)") }
                guard read.errors.isEmpty, !loaded.files.isEmpty else {
                    if loaded.files.isEmpty { printError(loaded.errorLines.joined(separator: "\n")) }
                    throw ExitCode(1)
                }
                references = read.objects.map(\.reference)
            }
            try await RegistryCommand.write(references, etcd: etcd, serviceCIDR: RegistryOptions().serviceCIDRs[0]) { writer, reference in
                guard try await writer.delete(reference) else {
                    printError("Error from etcd (NotFound): \(reference.kind.lowercased()) \"\(reference.name)\" not found")
                    return false
                }
                print("\(reference.kind.lowercased()) \"\(reference.name)\" deleted")
                return true
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List objects of a kind from etcd: get KIND [-n NS | -A] [-o wide|yaml|json]."
        )

        enum Format: String, ExpressibleByArgument {
            case wide, yaml, json
        }

        @Argument(help: "services, endpointslices, endpoints, pods or namespaces.")
        var kindName: String

        @Option(name: .shortAndLong, help: "Namespace to list.")
        var namespace: String = "default"

        @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List every namespace.")
        var allNamespaces = false

        @Option(name: .shortAndLong, help: "wide, yaml or json (default: a table).")
        var output: Format?

        @OptionGroup var etcd: EtcdOptions

        func validate() throws {
            guard !etcd.endpoints.isEmpty else { throw ValidationError("--etcd is required") }
            guard RegistryCommand.kind(named: kindName) != nil else {
                throw ValidationError("unknown kind '\(kindName)' (services, endpointslices, endpoints, pods, namespaces)")
            }
        }

        /// JSON composed as YAML keeps its quotes; kubectl's YAML quotes only what would read back
        /// as another type (`"80"`, `"true"`) or cannot be plain.
        static func plain(_ node: Node) -> Node {
            switch node {
            case .scalar(var scalar):
                if scalar.style == .doubleQuoted, !scalar.string.isEmpty, Resolver.default.resolveTag(of: Node(scalar.string)) == .str {
                    scalar.style = .plain
                }
                return .scalar(scalar)
            case .mapping(let mapping):
                return .mapping(Node.Mapping(mapping.map { (plain($0.key), plain($0.value)) }))
            case .sequence(let sequence):
                return .sequence(Node.Sequence(sequence.map(plain)))
            case .alias:
                return node
            }
        }

        func run() async throws {
            let kind = RegistryCommand.kind(named: kindName)!
            let prefix = etcd.layout.kindPrefix(kind: kind, namespace: allNamespaces ? nil : namespace)!
            let range: EtcdRange
            do {
                range = try await etcd.withClient(logger: RegistryCommand.quietLogger()) { try await $0.list(prefix: prefix) }
            } catch {
                printError("error: cannot list \(kindName): \(error)")
                throw ExitCode(1)
            }
            var items: [[String: Any]] = []
            for keyValue in range.keyValues {
                guard var object = (try? JSONSerialization.jsonObject(with: Data(keyValue.value))) as? [String: Any] else {
                    printError("warning: \(keyValue.key) holds no JSON object; skipped")
                    continue
                }
                var metadata = object["metadata"] as? [String: Any] ?? [:]
                metadata["resourceVersion"] = String(keyValue.modRevision)
                object["metadata"] = metadata
                items.append(object)
            }
            switch output {
            case .json, .yaml:
                let list: [String: Any] = ["apiVersion": "v1", "kind": "List", "metadata": ["resourceVersion": String(range.revision)], "items": items]
                let data = try JSONSerialization.data(withJSONObject: list, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                if output == .json {
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    let node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self))
                    print(try Yams.serialize(node: Self.plain(node!)), terminator: "")
                }
            case .wide, nil:
                if items.isEmpty {
                    printError(allNamespaces ? "No resources found" : "No resources found in \(namespace) namespace.")
                    return
                }
                print(ObjectTable(kind: kind, wide: output == .wide, allNamespaces: allNamespaces && kind != "Namespace").render(items), terminator: "")
            }
        }
    }
}

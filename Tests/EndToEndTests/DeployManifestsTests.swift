import Foundation
import KubernetesRegistry
import Testing
import Yams

/// The manifests in deploy/ hold together without a cluster: every document is an object
/// kubectl can apply, the RBAC grants what the API source reads and nothing more, the Deployment
/// probes and exposes what the ConfigMap's config serves, that config names only serve's flags,
/// and `clusterdns check` accepts the kube-dns Service. No cluster runs here; these are the
/// mistakes a first `kubectl apply` would otherwise find.
@Suite struct DeployManifestsTests {
    static let deploy = BuiltProducts.packageRoot.appendingPathComponent("deploy")

    /// The two ways to run it: the API server's registry, and etcd's.
    static let variants = ["kubernetes", "kubernetes-etcd"]

    @Test func everyDocumentIsAnObjectKubectlCanApply() throws {
        let files = try Self.yamlFiles(under: Self.deploy)
        #expect(files.count >= 6, "\(files)")
        for file in files {
            for object in try Self.objects(in: file) {
                let place = "\(file.lastPathComponent): \(object["kind"] ?? "?")"
                #expect((object["apiVersion"] as? String)?.isEmpty == false, "\(place): apiVersion")
                let metadata = object["metadata"] as? [String: Any]
                #expect((metadata?["name"] as? String)?.isEmpty == false, "\(place): metadata.name")
                let kind = object["kind"] as? String ?? ""
                if !["ClusterRole", "ClusterRoleBinding"].contains(kind) {
                    #expect(metadata?["namespace"] as? String == "kube-system", "\(place): the cluster DNS lives in kube-system")
                }
            }
        }
        #expect(try Self.kinds(in: "kubernetes") == ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "PodDisruptionBudget", "ServiceAccount"])
        #expect(try Self.kinds(in: "kubernetes-etcd") == ["ConfigMap", "Deployment", "PodDisruptionBudget"])
    }

    @Test func rbacGrantsListAndWatchOfWhatTheAPISourceReads() throws {
        let objects = try Self.objects(inVariant: "kubernetes")
        let role = try #require(objects.first { $0["kind"] as? String == "ClusterRole" })
        var granted: [String: Set<String>] = [:]
        for rule in role["rules"] as? [[String: Any]] ?? [] {
            #expect(rule["resourceNames"] == nil && rule["nonResourceURLs"] == nil, "\(rule)")
            let verbs = Set(rule["verbs"] as? [String] ?? [])
            for group in rule["apiGroups"] as? [String] ?? [] {
                for resource in rule["resources"] as? [String] ?? [] {
                    granted["\(group)/\(resource)", default: []].formUnion(verbs)
                }
            }
        }
        let listWatch: Set<String> = ["list", "watch"]
        #expect(granted == ["/services": listWatch, "/namespaces": listWatch, "/pods": listWatch, "discovery.k8s.io/endpointslices": listWatch])
        // ... which is what the source asks for with every option on: /api/v1/<resource> is the
        // core group, /apis/<group>/<version>/<resource> a named one.
        let read = Set(KubernetesResource.needed(pods: true).map { resource -> String in
            let parts = resource.path.split(separator: "/").map(String.init)
            return parts.first == "apis" ? "\(parts[1])/\(parts[3])" : "/\(parts[2])"
        })
        #expect(read == Set(granted.keys))

        let binding = try #require(objects.first { $0["kind"] as? String == "ClusterRoleBinding" })
        let roleRef = binding["roleRef"] as? [String: Any]
        #expect(roleRef?["kind"] as? String == "ClusterRole")
        #expect(roleRef?["name"] as? String == Self.name(of: role))
        let account = try #require(objects.first { $0["kind"] as? String == "ServiceAccount" })
        let subjects = binding["subjects"] as? [[String: Any]] ?? []
        #expect(subjects.count == 1)
        #expect(subjects.first?["kind"] as? String == "ServiceAccount")
        #expect(subjects.first?["name"] as? String == Self.name(of: account))
        #expect(subjects.first?["namespace"] as? String == "kube-system")
        let pod = try Self.podSpec(in: objects)
        #expect(pod["serviceAccountName"] as? String == Self.name(of: account))
    }

    /// The probes, ports and Service follow the config the Deployment is given, so editing the
    /// ConfigMap's `http-listen` or `listen` without the rest fails here, not in a rollout.
    @Test(arguments: variants) func deploymentServesWhatItsConfigSays(variant: String) throws {
        let objects = try Self.objects(inVariant: variant)
        let config = try Self.config(in: objects)
        let deployment = try #require(objects.first { $0["kind"] as? String == "Deployment" })
        let spec = deployment["spec"] as? [String: Any] ?? [:]
        let pod = try Self.podSpec(in: objects)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let ports = container["ports"] as? [[String: Any]] ?? []

        // The config file is the ConfigMap's, mounted where --config points.
        let args = container["args"] as? [String] ?? []
        let configIndex = try #require(args.firstIndex(of: "--config"))
        let configPath = args[configIndex + 1]
        let mount = try #require((container["volumeMounts"] as? [[String: Any]])?.first)
        let volume = try #require((pod["volumes"] as? [[String: Any]])?.first { $0["name"] as? String == mount["name"] as? String })
        let source = volume["configMap"] as? [String: Any]
        let configMap = try #require(objects.first { $0["kind"] as? String == "ConfigMap" })
        #expect(source?["name"] as? String == Self.name(of: configMap))
        let item = (source?["items"] as? [[String: Any]])?.first
        #expect(configPath == "\(mount["mountPath"] as? String ?? "")/\(item?["path"] as? String ?? "")")
        #expect(args.first == "serve")

        // Probes on the HTTP listener of the config: /health for liveness, /ready for readiness.
        let httpPort = try #require(Self.port(of: config["http-listen"]))
        for (probe, path) in [("livenessProbe", "/health"), ("readinessProbe", "/ready")] {
            let get = (container[probe] as? [String: Any])?["httpGet"] as? [String: Any]
            #expect(get?["path"] as? String == path, "\(probe)")
            #expect(Self.resolve(get?["port"], in: ports) == httpPort, "\(probe) port")
        }
        // DNS on the config's listen port, UDP and TCP, and the metrics port.
        let dnsPort = try #require(Self.port(of: config["listen"]))
        let containerPorts = Set(ports.map { "\($0["containerPort"] as? Int ?? 0)/\($0["protocol"] as? String ?? "TCP")" })
        #expect(containerPorts == ["\(dnsPort)/UDP", "\(dnsPort)/TCP", "\(httpPort)/TCP"])

        // The kube-dns Service reaches these pods on those ports.
        let service = try #require(objects.first { $0["kind"] as? String == "Service" })
        let serviceSpec = service["spec"] as? [String: Any] ?? [:]
        let template = ((spec["template"] as? [String: Any])?["metadata"] as? [String: Any])?["labels"] as? [String: String] ?? [:]
        let selector = serviceSpec["selector"] as? [String: String] ?? [:]
        #expect(!selector.isEmpty && selector.allSatisfy { template[$0.key] == $0.value }, "\(selector) vs \(template)")
        #expect(Self.name(of: service) == "kube-dns")
        #expect((service["metadata"] as? [String: Any]).flatMap { $0["labels"] as? [String: String] }?["k8s-app"] == "kube-dns")
        var servicePorts: Set<String> = []
        for port in serviceSpec["ports"] as? [[String: Any]] ?? [] {
            let target = Self.resolve(port["targetPort"] ?? port["port"], in: ports)
            servicePorts.insert("\(port["port"] as? Int ?? 0)->\(target ?? 0)/\(port["protocol"] as? String ?? "TCP")")
        }
        #expect(servicePorts == ["53->\(dnsPort)/UDP", "53->\(dnsPort)/TCP", "9153->\(httpPort)/TCP"])

        // The Deployment, its PDB and its anti-affinity all select the template's pods.
        let matchLabels = (spec["selector"] as? [String: Any])?["matchLabels"] as? [String: String] ?? [:]
        #expect(!matchLabels.isEmpty && matchLabels.allSatisfy { template[$0.key] == $0.value })
        #expect(matchLabels["k8s-app"] == nil, "CoreDNS's Deployment selects k8s-app: kube-dns; ours must not")
        let budget = try #require(objects.first { $0["kind"] as? String == "PodDisruptionBudget" })
        #expect(((budget["spec"] as? [String: Any])?["selector"] as? [String: Any])?["matchLabels"] as? [String: String] == matchLabels)
        let antiAffinity = ((pod["affinity"] as? [String: Any])?["podAntiAffinity"] as? [String: Any])?["preferredDuringSchedulingIgnoredDuringExecution"] as? [[String: Any]]
        let term = antiAffinity?.first?["podAffinityTerm"] as? [String: Any]
        #expect((term?["labelSelector"] as? [String: Any])?["matchLabels"] as? [String: String] == matchLabels)
        #expect(term?["topologyKey"] as? String == "kubernetes.io/hostname")

        #expect(spec["replicas"] as? Int == 2)
        #expect(pod["priorityClassName"] as? String == "system-cluster-critical")
        // Past the lameduck, or the kubelet kills the server while it still drains.
        let lameduck = Double(config["lameduck"].map { "\($0)" } ?? "5") ?? 5
        #expect(Double(pod["terminationGracePeriodSeconds"] as? Int ?? 30) > lameduck + 5)
        // Forwarding to a resolv.conf needs the node's, not the cluster's (itself).
        if let forward = config["forward"] as? String, forward.contains("/") {
            #expect(pod["dnsPolicy"] as? String == "Default")
        }
    }

    @Test(arguments: variants) func podRunsUnprivileged(variant: String) throws {
        let pod = try Self.podSpec(in: try Self.objects(inVariant: variant))
        let podSecurity = pod["securityContext"] as? [String: Any] ?? [:]
        #expect(podSecurity["runAsNonRoot"] as? Bool == true)
        #expect((podSecurity["runAsUser"] as? Int ?? 0) != 0)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let security = container["securityContext"] as? [String: Any] ?? [:]
        #expect(security["allowPrivilegeEscalation"] as? Bool == false)
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        let capabilities = security["capabilities"] as? [String: Any]
        #expect(capabilities?["add"] as? [String] == ["NET_BIND_SERVICE"])
        #expect(capabilities?["drop"] as? [String] == ["ALL"])
        let resources = container["resources"] as? [String: Any]
        let requests = resources?["requests"] as? [String: Any]
        #expect(requests?["cpu"] != nil && requests?["memory"] != nil)
        #expect((resources?["limits"] as? [String: Any])?["memory"] != nil)
    }

    /// Two copies of one Deployment are safe only while they stay one: the etcd variant differs
    /// in the service account alone.
    @Test func etcdDeploymentIsTheAPIDeploymentWithoutItsServiceAccount() throws {
        func deployment(_ variant: String) throws -> [String: Any] {
            try #require(try Self.objects(inVariant: variant).first { $0["kind"] as? String == "Deployment" })
        }
        var api = try deployment("kubernetes")
        var etcd = try deployment("kubernetes-etcd")
        for field in ["serviceAccountName", "automountServiceAccountToken"] {
            Self.removePodField(field, from: &api)
            Self.removePodField(field, from: &etcd)
        }
        #expect(try Self.canonicalJSON(api) == Self.canonicalJSON(etcd))
        let etcdPod = try Self.podSpec(in: try Self.objects(inVariant: "kubernetes-etcd"))
        #expect(etcdPod["automountServiceAccountToken"] as? Bool == false)
        #expect(etcdPod["serviceAccountName"] == nil)
    }

    /// Every key of each variant's config is a flag of the built `clusterdns serve`, and the
    /// values are what serve's `--config` reads: a scalar, a list of scalars, or `true` for a switch.
    @Test(arguments: variants) func configKeysAreServeFlags(variant: String) throws {
        let help = try run(BuiltProducts.clusterdns, ["serve", "--help"])
        #expect(help.status == 0, "\(help.stderr)")
        let flags = Self.flags(inHelp: help.stdout)
        #expect(flags.isSuperset(of: ["listen", "http-listen", "lameduck", "forward", "etcd", "kubernetes", "domain"]), "\(flags)")
        let config = try Self.config(in: try Self.objects(inVariant: variant))
        for (key, value) in config {
            #expect(flags.contains(key), "\(variant): `\(key)` is not a flag of clusterdns serve")
            let plain = value is String || value is Int || value is Double || value is Bool
            #expect(plain || (value as? [Any])?.allSatisfy { $0 is String } == true, "\(key): \(value)")
        }
        #expect(config["listen"] as? String == "0.0.0.0:53")
        #expect(config["forward"] as? String == "/etc/resolv.conf")
        #expect(config["domain"] as? String == "cluster.local")
        #expect(Self.port(of: config["http-listen"]) != nil)
        if variant == "kubernetes" {
            #expect(config["kubernetes"] as? Bool == true)
            #expect(config["etcd"] == nil)
        } else {
            #expect(config["kubernetes"] == nil)
            #expect((config["etcd"] as? [String])?.isEmpty == false)
        }
    }

    /// The etcd variant's config file, as the pod mounts it, starts serve: listening, healthy, and
    /// not ready before its first list (only the addresses are moved to loopback, and the etcd
    /// members to one that is not there).
    @Test func etcdConfigStartsServeUnreadyUntilListed() throws {
        let config = try Self.configText(in: try Self.objects(inVariant: "kubernetes-etcd"))
        let directory = try makeRegistry(["clusterdns.yaml": config])
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ClusterDNSServer(arguments: [
            "--config", directory.appendingPathComponent("clusterdns.yaml").path,
            "--http-listen", "127.0.0.1:0", "--etcd", "http://127.0.0.1:1",
        ])
        defer { server.stop() }
        let http = try #require(server.httpPort, "\(server.log)")
        #expect(try httpGet(http, "/health").status == 200)
        #expect(try httpGet(http, "/ready") == (503, "registry"))
    }

    @Test func kubeDNSServicePassesCheck() throws {
        let service = Self.deploy.appendingPathComponent("kube-dns-service.yaml").path
        let result = try run(BuiltProducts.clusterdns, ["check", "--strict", service])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("1 service: 1 ClusterIP"), "\(result.stdout)")
        #expect(result.stdout.hasSuffix("registry is valid\n"), "\(result.stdout)")
        // Each variant's folder with it, as an operator might check them: the other kinds are
        // skipped. (The two folders together define each object twice: they are alternatives.)
        for variant in Self.variants {
            let all = try run(BuiltProducts.clusterdns, ["check", "--strict", Self.deploy.appendingPathComponent(variant).path, service])
            #expect(all.status == 0, "\(variant): \(all.stderr)")
            #expect(all.stdout.hasPrefix("1 service: 1 ClusterIP"), "\(variant): \(all.stdout)")
            #expect(all.stdout.contains("objects of other kinds skipped"), "\(variant): \(all.stdout)")
        }
    }
}

extension DeployManifestsTests {
    static func yamlFiles(under directory: URL) throws -> [URL] {
        let enumerator = try #require(FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil))
        return enumerator.compactMap { $0 as? URL }
            .filter { ["yaml", "yml"].contains($0.pathExtension) }
            .sorted { $0.path < $1.path }
    }

    /// The documents of a file, each of which must be a mapping: an object.
    static func objects(in file: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: file, encoding: .utf8)
        var objects: [[String: Any]] = []
        var documents = try Yams.load_all(yaml: text)
        while let document = documents.next() {
            let object = try #require(document as? [String: Any], "\(file.lastPathComponent): a document that is not a mapping")
            objects.append(object)
        }
        // The sequence ends at a syntax error and keeps it, rather than throwing.
        if let error = documents.error { throw error }
        return objects
    }

    /// A variant's objects, with the kube-dns Service both variants share.
    static func objects(inVariant variant: String) throws -> [[String: Any]] {
        var files = try yamlFiles(under: deploy.appendingPathComponent(variant))
        let service = deploy.appendingPathComponent("kube-dns-service.yaml")
        if !files.contains(service) { files.append(service) }
        return try files.flatMap { try objects(in: $0) }
    }

    static func kinds(in variant: String) throws -> [String] {
        try yamlFiles(under: deploy.appendingPathComponent(variant)).flatMap { try objects(in: $0) }.compactMap { $0["kind"] as? String }.sorted()
    }

    static func name(of object: [String: Any]) -> String? {
        (object["metadata"] as? [String: Any])?["name"] as? String
    }

    static func podSpec(in objects: [[String: Any]]) throws -> [String: Any] {
        let deployment = try #require(objects.first { $0["kind"] as? String == "Deployment" })
        let template = (deployment["spec"] as? [String: Any])?["template"] as? [String: Any]
        return try #require(template?["spec"] as? [String: Any])
    }

    static func configText(in objects: [[String: Any]]) throws -> String {
        let configMap = try #require(objects.first { $0["kind"] as? String == "ConfigMap" })
        return try #require((configMap["data"] as? [String: Any])?["clusterdns.yaml"] as? String)
    }

    /// The ConfigMap's embedded serve config, parsed.
    static func config(in objects: [[String: Any]]) throws -> [String: Any] {
        try #require(try Yams.load(yaml: try configText(in: objects)) as? [String: Any])
    }

    /// The port of HOST:PORT.
    static func port(of address: Any?) -> Int? {
        (address as? String)?.split(separator: ":").last.flatMap { Int($0) }
    }

    /// A port number, or the number of a container port named so.
    static func resolve(_ port: Any?, in ports: [[String: Any]]) -> Int? {
        if let number = port as? Int { return number }
        guard let name = port as? String else { return nil }
        return ports.first { $0["name"] as? String == name }?["containerPort"] as? Int
    }

    /// The long options `serve --help` lists, without their dashes.
    static func flags(inHelp help: String) -> Set<String> {
        var flags: Set<String> = []
        for line in help.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            let option = trimmed.hasPrefix("-h, ") ? trimmed.dropFirst(4) : trimmed
            guard option.hasPrefix("--") else { continue }
            flags.insert(String(option.dropFirst(2).prefix { $0.isLetter || $0.isNumber || $0 == "-" }))
        }
        return flags
    }

    static func removePodField(_ field: String, from deployment: inout [String: Any]) {
        guard var spec = deployment["spec"] as? [String: Any], var template = spec["template"] as? [String: Any],
              var pod = template["spec"] as? [String: Any] else { return }
        pod[field] = nil
        template["spec"] = pod
        spec["template"] = template
        deployment["spec"] = spec
    }

    static func canonicalJSON(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

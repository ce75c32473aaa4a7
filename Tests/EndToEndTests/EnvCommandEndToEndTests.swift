import Foundation
import Testing

/// `clusterdns env` run as a user runs it: the built binary on a registry of real manifests, each
/// format read back by its real consumer (`sh`, python-dotenv, a JSON parser), and the exec form.
@Suite struct EnvCommandEndToEndTests {
    /// The registry every test reads, written once per test into a fresh directory.
    private static let manifests = """
        apiVersion: v1
        kind: Service
        metadata: {name: kubernetes, namespace: default}
        spec:
          clusterIP: 10.96.0.1
          ports: [{name: https, port: 443, targetPort: 6443}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          clusterIP: 10.96.1.10
          selector: {app: web}
          ports:
          - {name: http, port: 80, targetPort: 8080}
          - {name: 9090-metrics, port: 9090}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: dns-cache, namespace: shop}
        spec:
          clusterIP: 10.96.1.53
          ports:
          - {name: dns, port: 53, protocol: UDP}
          - {name: dns-tcp, port: 53, protocol: TCP}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: api-v6, namespace: shop}
        spec:
          type: NodePort
          clusterIP: fd00:10:96::20
          clusterIPs: [fd00:10:96::20]
          ipFamilies: [IPv6]
          ports: [{name: grpc, port: 50051, nodePort: 30051}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: dual, namespace: shop}
        spec:
          clusterIP: 10.96.1.30
          clusterIPs: [10.96.1.30, fd00:10:96::30]
          ipFamilies: [IPv4, IPv6]
          ipFamilyPolicy: RequireDualStack
          ports: [{port: 8443}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: shop}
        spec:
          clusterIP: None
          ports: [{name: pg, port: 5432}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: payments, namespace: shop}
        spec:
          type: ExternalName
          externalName: pay.example.com
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-0, namespace: shop, labels: {app: web}}
        spec:
          containers: [{name: web, image: nginx}]
        status:
          podIP: 10.244.1.5
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: batch-0, namespace: shop}
        spec:
          enableServiceLinks: false
          containers: [{name: batch, image: busybox}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: foo, namespace: clash}
        spec:
          clusterIP: 10.96.3.1
          ports: [{port: 80}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: foo-service, namespace: clash}
        spec:
          clusterIP: 10.96.3.2
          ports: [{port: 8080}]

        """

    private static let kubernetesVariables: KeyValuePairs<String, String> = [
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443",
        "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443",
        "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
    ]

    /// Namespace `shop` with links on: services by name, headless `db` and ExternalName `payments` left out.
    private static let shopVariables: [Variable] = pairs([
        "API_V6_SERVICE_HOST": "fd00:10:96::20",
        "API_V6_SERVICE_PORT": "50051",
        "API_V6_SERVICE_PORT_GRPC": "50051",
        "API_V6_PORT": "tcp://[fd00:10:96::20]:50051",
        "API_V6_PORT_50051_TCP": "tcp://[fd00:10:96::20]:50051",
        "API_V6_PORT_50051_TCP_PROTO": "tcp",
        "API_V6_PORT_50051_TCP_PORT": "50051",
        "API_V6_PORT_50051_TCP_ADDR": "fd00:10:96::20",
        "DNS_CACHE_SERVICE_HOST": "10.96.1.53",
        "DNS_CACHE_SERVICE_PORT": "53",
        "DNS_CACHE_SERVICE_PORT_DNS": "53",
        "DNS_CACHE_SERVICE_PORT_DNS_TCP": "53",
        "DNS_CACHE_PORT": "udp://10.96.1.53:53",
        "DNS_CACHE_PORT_53_UDP": "udp://10.96.1.53:53",
        "DNS_CACHE_PORT_53_UDP_PROTO": "udp",
        "DNS_CACHE_PORT_53_UDP_PORT": "53",
        "DNS_CACHE_PORT_53_UDP_ADDR": "10.96.1.53",
        "DNS_CACHE_PORT_53_TCP": "tcp://10.96.1.53:53",
        "DNS_CACHE_PORT_53_TCP_PROTO": "tcp",
        "DNS_CACHE_PORT_53_TCP_PORT": "53",
        "DNS_CACHE_PORT_53_TCP_ADDR": "10.96.1.53",
        "DUAL_SERVICE_HOST": "10.96.1.30",
        "DUAL_SERVICE_PORT": "8443",
        "DUAL_PORT": "tcp://10.96.1.30:8443",
        "DUAL_PORT_8443_TCP": "tcp://10.96.1.30:8443",
        "DUAL_PORT_8443_TCP_PROTO": "tcp",
        "DUAL_PORT_8443_TCP_PORT": "8443",
        "DUAL_PORT_8443_TCP_ADDR": "10.96.1.30",
    ]) + pairs(kubernetesVariables) + pairs([
        "WEB_SERVICE_HOST": "10.96.1.10",
        "WEB_SERVICE_PORT": "80",
        "WEB_SERVICE_PORT_HTTP": "80",
        "WEB_SERVICE_PORT_9090_METRICS": "9090",
        "WEB_PORT": "tcp://10.96.1.10:80",
        "WEB_PORT_80_TCP": "tcp://10.96.1.10:80",
        "WEB_PORT_80_TCP_PROTO": "tcp",
        "WEB_PORT_80_TCP_PORT": "80",
        "WEB_PORT_80_TCP_ADDR": "10.96.1.10",
        "WEB_PORT_9090_TCP": "tcp://10.96.1.10:9090",
        "WEB_PORT_9090_TCP_PROTO": "tcp",
        "WEB_PORT_9090_TCP_PORT": "9090",
        "WEB_PORT_9090_TCP_ADDR": "10.96.1.10",
    ])

    private let workspace: EnvWorkspace

    init() throws {
        workspace = try EnvWorkspace(manifests: Self.manifests)
    }

    // MARK: formats, each read back by its real consumer

    @Test func shellOutputSourcedBySHSetsExactlyTheServiceVariables() throws {
        let run = try workspace.env("-n", "shop")
        try #require(run.status == 0, "\(run.stderr)")
        let file = try workspace.write("service.env.sh", run.stdout)
        let sourced = try shellVariables(sourcing: file)
        #expect(sourced == Dictionary(uniqueKeysWithValues: Self.shopVariables.map { ($0.name, $0.value) }))
        #expect(run.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("export ") })
    }

    @Test func envFileOutputParsedByPythonDotenvGivesTheVariablesInOrder() throws {
        let run = try workspace.env("-n", "shop", "--format", "env-file")
        try #require(run.status == 0, "\(run.stderr)")
        let file = try workspace.write("service.env", run.stdout)
        let script = """
            import json, sys
            from dotenv import dotenv_values
            print(json.dumps(list(dotenv_values(sys.argv[1]).items())))
            """
        let python = try ProcessRun.run("/usr/bin/env", ["python3", "-c", script, file])
        try #require(python.status == 0, "python-dotenv must be installed (pip install python-dotenv): \(python.stderr)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(python.stdout.utf8)) as? [[String]])
        #expect(parsed == Self.shopVariables.map { [$0.name, $0.value] })
    }

    @Test func jsonOutputIsTheNameValueArrayInOrder() throws {
        let run = try workspace.env("-n", "shop", "--format", "json")
        try #require(run.status == 0, "\(run.stderr)")
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: String]])
        #expect(objects == Self.shopVariables.map { ["name": $0.name, "value": $0.value] })
    }

    @Test func shellOutputLinesFollowTheKubeletOrder() throws {
        let run = try workspace.env("--namespace", "shop", "--format", "shell")
        #expect(run.stdout == Self.shopVariables.map { "export \($0.name)='\($0.value)'\n" }.joined())
        #expect(run.stderr.isEmpty)
    }

    // MARK: which services

    @Test(arguments: [["-n", "shop", "--no-service-links"], ["--pod", "batch-0"], ["-n", "shop", "--pod", "batch-0"]])
    func withoutServiceLinksOnlyTheMasterServiceIsSet(arguments: [String]) throws {
        let run = try workspace.env(arguments + ["--format", "json"])
        try #require(run.status == 0, "\(run.stderr)")
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: String]])
        #expect(objects == pairs(Self.kubernetesVariables).map { ["name": $0.name, "value": $0.value] })
    }

    @Test func aPodGivesItsNamespace() throws {
        let byPod = try workspace.env("--pod", "web-0", "--format", "env-file")
        let byNamespace = try workspace.env("-n", "shop", "--format", "env-file")
        #expect(byPod.status == 0)
        #expect(byPod.stdout == byNamespace.stdout)
    }

    @Test func theDefaultNamespaceIsDefault() throws {
        let run = try workspace.env("--format", "env-file")
        #expect(run.stdout == pairs(Self.kubernetesVariables).map { "\($0.name)=\($0.value)\n" }.joined())
    }

    @Test func aClashIsDeterministicAndWarnsNamingBothServices() throws {
        let first = try workspace.env("-n", "clash", "--format", "env-file")
        let second = try workspace.env("-n", "clash", "--format", "env-file")
        #expect(first.status == 0)
        #expect(first.stdout == second.stdout)
        #expect(first.stdout.contains("FOO_SERVICE_PORT=tcp://10.96.3.2:8080\n"))
        #expect(!first.stdout.contains("FOO_SERVICE_PORT=80\n"))
        #expect(first.stderr.contains(
            "warning: FOO_SERVICE_PORT is set by both Service clash/foo (80) and Service clash/foo-service (tcp://10.96.3.2:8080)"
        ))
    }

    // MARK: the exec form

    @Test func execRunsTheProgramWithTheVariablesAddedToTheEnvironment() throws {
        let run = try workspace.env(["-n", "shop", "--", "env"], environment: ["PATH": "/usr/bin:/bin", "MY_SETTING": "kept"])
        try #require(run.status == 0, "\(run.stderr)")
        let lines = Set(run.stdout.split(separator: "\n").map(String.init))
        #expect(lines.contains("MY_SETTING=kept"))
        #expect(lines.contains("PATH=/usr/bin:/bin"))
        for variable in Self.shopVariables {
            #expect(lines.contains("\(variable.name)=\(variable.value)"))
        }
        #expect(lines.count == Self.shopVariables.count + 2)
    }

    @Test func execLetsTheCurrentEnvironmentWin() throws {
        let run = try workspace.env(
            ["-n", "shop", "--", "sh", "-c", "echo $WEB_SERVICE_HOST $WEB_PORT"],
            environment: ["PATH": "/usr/bin:/bin", "WEB_SERVICE_HOST": "127.0.0.1"]
        )
        #expect(run.status == 0)
        #expect(run.stdout == "127.0.0.1 tcp://10.96.1.10:80\n")
    }

    @Test func execPassesArgumentsThroughUntouched() throws {
        let run = try workspace.env("-n", "shop", "--", "sh", "-c", "printf '%s|' \"$@\"; echo \"$X\"", "zero", "-n", "--pod", "a b")
        #expect(run.status == 0)
        #expect(run.stdout == "-n|--pod|a b|\n")
    }

    @Test func execReplacesTheProcessInsteadOfStartingAChild() throws {
        let run = try workspace.env("-n", "shop", "--", "sh", "-c", "echo $$")
        #expect(run.status == 0)
        #expect(run.stdout == "\(run.processIdentifier)\n")
    }

    @Test func execOfAnUnknownProgramFailsWith127() throws {
        let run = try workspace.env("-n", "shop", "--", "no-such-program-clusterdns")
        #expect(run.status == 127)
        #expect(run.stderr.contains("no-such-program-clusterdns: command not found"))
        #expect(run.stdout.isEmpty)
    }

    @Test func execOfAFileThatCannotRunFailsWith126() throws {
        let file = try workspace.write("not-executable", "echo never\n")
        let run = try workspace.env("-n", "shop", "--", file)
        #expect(run.status == 126)
        #expect(run.stderr.contains("cannot run \(file): Permission denied"))
    }

    @Test func execRunsAScriptWithoutShebangWithSH() throws {
        let file = try workspace.write("script", "echo \"$KUBERNETES_SERVICE_HOST $1\"\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file)
        let run = try workspace.env("-n", "shop", "--", file, "arg")
        #expect(run.status == 0)
        #expect(run.stdout == "10.96.0.1 arg\n")
    }

    @Test func execPassesTheProgramsExitStatusOn() throws {
        let run = try workspace.env("-n", "shop", "--", "sh", "-c", "exit 7")
        #expect(run.status == 7)
    }

    // MARK: the example cluster and its documentation

    @Test func theDefaultRegistryIsTheExampleCluster() throws {
        let run = try workspace.run("env", "--format", "env-file")
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("KUBERNETES_SERVICE_HOST=10.96.0.1\n"))
    }

    /// The README's example must be the command's real output for `zones/`, so it cannot go stale.
    @Test func theDocumentedExampleIsTheRealOutput() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let marker = "$ clusterdns env -n shop\n"
        let documents = ["README.md"].compactMap { try? String(contentsOf: root.appendingPathComponent($0), encoding: .utf8) }
        let document = try #require(documents.first { $0.contains(marker) }, "README.md shows `\(marker)`")
        let example = document.components(separatedBy: marker)[1].components(separatedBy: "```")[0]
        let run = try workspace.run("env", "--registry", root.appendingPathComponent("zones").path, "-n", "shop")
        #expect(run.status == 0)
        #expect(example == run.stdout)
    }

    // MARK: errors

    @Test func anUnknownNamespaceListsTheNamespacesThatExist() throws {
        let run = try workspace.env("-n", "shpo")
        #expect(run.status != 0)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("namespace 'shpo' does not exist; namespaces: clash, default, shop"))
    }

    @Test func aPodNamingNoPodIsAnError() throws {
        let run = try workspace.env("-n", "shop", "--pod", "web-9")
        #expect(run.status != 0)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("no pod named 'web-9' in namespace 'shop'; pods: batch-0, web-0"))
    }

    @Test func aBrokenRegistryIsReportedAsCheckReportsIt() throws {
        let broken = try EnvWorkspace(manifests: Self.manifests + """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: bad, namespace: shop}
            spec:
              clusterIP: 10.96.1.999
              ports: [{port: 80}]

            """)
        let run = try broken.env("-n", "shop")
        #expect(run.status != 0)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("registry.yaml"))
        #expect(run.stderr.contains("10.96.1.999"))
        let check = try broken.run("check", broken.registry)
        #expect(run.stderr.contains(check.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func anInvalidServiceCIDRIsAUsageError() throws {
        let run = try workspace.env("-n", "shop", "--service-cidr", "10.96.0.0/99")
        #expect(run.status == 64)
        #expect(run.stderr.contains("--service-cidr '10.96.0.0/99'"))
    }

    /// Sources `file` with `set -a` in `sh` and returns the variables it added to a minimal environment.
    private func shellVariables(sourcing file: String) throws -> [String: String] {
        let environment = ["PATH": "/usr/bin:/bin"]
        let before = try ProcessRun.run("/bin/sh", ["-c", "set -a; env"], environment: environment)
        let after = try ProcessRun.run("/bin/sh", ["-c", "set -a; . \"$1\"; env", "sh", file], environment: environment)
        try #require(after.status == 0, "sourcing failed: \(after.stderr)")
        let baseline = Set(before.stdout.split(separator: "\n").map(String.init))
        var added: [String: String] = [:]
        for line in after.stdout.split(separator: "\n").map(String.init) where !baseline.contains(line) {
            guard let equals = line.firstIndex(of: "="), line[..<equals] != "_" else { continue }
            added[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return added
    }
}

private struct EnvTestFailure: Error, CustomStringConvertible {
    var description: String
}

private struct Variable: Equatable {
    var name: String
    var value: String
}

private func pairs(_ table: KeyValuePairs<String, String>) -> [Variable] {
    table.map { Variable(name: $0.key, value: $0.value) }
}

/// A temporary registry directory and the built `clusterdns` to run on it.
private final class EnvWorkspace: Sendable {
    let directory: String
    let registry: String

    init(manifests: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-env-\(UUID().uuidString)").path
        registry = directory + "/registry"
        try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true)
        try manifests.write(toFile: registry + "/registry.yaml", atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ name: String, _ contents: String) throws -> String {
        let path = directory + "/" + name
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func env(_ arguments: String..., environment: [String: String]? = nil) throws -> ProcessRun {
        try env(arguments, environment: environment)
    }

    /// `clusterdns env --registry <this registry> arguments...`, with an IPv4 and an IPv6 service CIDR
    /// unless the arguments give their own.
    func env(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessRun {
        var options = ["env", "--registry", registry]
        if !arguments.contains("--service-cidr") {
            options += ["--service-cidr", "10.96.0.0/12", "--service-cidr", "fd00:10:96::/112"]
        }
        return try ProcessRun.run(Self.clusterdns(), options + arguments, environment: environment)
    }

    func run(_ arguments: String...) throws -> ProcessRun {
        try ProcessRun.run(Self.clusterdns(), arguments)
    }

    /// The `clusterdns` of this build: it sits next to the test bundle, in `<scratch>/debug/`, whatever
    /// `--scratch-path` was. CI runs `swift build` before `swift test`, so a missing binary is a failure.
    static func clusterdns() throws -> String {
        let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("clusterdns").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw EnvTestFailure(description: "\(path) is missing: run `swift build` (with the same --scratch-path) before `swift test`")
        }
        return path
    }
}

/// One finished run of a program: its exit status and everything it wrote.
private struct ProcessRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var processIdentifier: Int32

    /// Runs `executable` to completion, output captured through files so neither pipe can fill up.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessRun {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clusterdns-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pid = process.processIdentifier
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ProcessRun(
            status: process.terminationStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8),
            processIdentifier: pid
        )
    }
}

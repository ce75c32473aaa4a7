import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Replicas of `clusterdns serve --etcd` sharing one real 3-member etcd cluster, fed by
/// `clusterdns registry` and etcdctl and asked with dig: they converge, follow every change, and
/// ride out the loss of the leader, of the quorum and of their own connection without answering
/// anything wrong. Serialized: each test runs a cluster and two servers on two cores.
@Suite(.serialized, .enabled(if: EtcdCluster.isInstalled, "etcd is not installed: apt-get install etcd-server etcd-client (.ci/run does)"))
struct EtcdServeEndToEndTests {
    static var exampleCluster: String { BuiltProducts.packageRoot.appendingPathComponent("Sources/clusterdns/example-cluster").path }

    static func registry(_ arguments: [String], cluster: EtcdCluster) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(BuiltProducts.clusterdns, ["registry"] + arguments + ["--etcd", cluster.endpointList], timeout: 60)
    }

    static func replica(_ cluster: EtcdCluster, endpoints: String? = nil) throws -> ClusterDNSServer {
        try ClusterDNSServer(arguments: ["--etcd", endpoints ?? cluster.endpointList, "--threads", "1"])
    }

    static func serviceFile(_ services: [(name: String, namespace: String, ip: String?)]) throws -> URL {
        let text = services.map { service in
            let ip = service.ip.map { "clusterIP: \($0), " } ?? ""
            return "apiVersion: v1\nkind: Service\nmetadata: {name: \(service.name), namespace: \(service.namespace)}\nspec: {\(ip)ports: [{name: http, port: 80}]}\n"
        }.joined(separator: "---\n")
        let directory = try makeRegistry(["services.yaml": text])
        return directory.appendingPathComponent("services.yaml")
    }

    /// Waits up to `limit` seconds until `name` answers `status` with A records `expected`.
    static func waitFor(_ server: ClusterDNSServer, _ name: String, _ expected: [String], status: String = "NOERROR", limit: TimeInterval = 10) throws -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            let output = try Client.dig.query(port: server.port, name)
            if output.status == status && output.data(ofType: "A") == expected { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    @Test func twoReplicasConvergeOnApplyAndFollowPutsAndDeletes() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let one = try Self.replica(cluster)
        defer { one.stop() }
        let two = try Self.replica(cluster)
        defer { two.stop() }

        let applied = try Self.registry(["apply", "-f", Self.exampleCluster], cluster: cluster)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("service/api created"), "\(applied.stdout)")
        #expect(applied.stdout.contains("namespace/shop created"), "\(applied.stdout)")
        for server in [one, two] {
            #expect(try Self.waitFor(server, "api.shop.svc.cluster.local", ["10.96.120.15"]), "\(server.log)")
        }
        // The same files again change nothing.
        let again = try Self.registry(["apply", "-f", Self.exampleCluster], cluster: cluster)
        #expect(again.status == 0 && again.stdout.contains("service/api unchanged") && !again.stdout.contains("created"), "\(again.stdout)\(again.stderr)")

        // A put: a new Service answers on both.
        let file = try Self.serviceFile([("late", "shop", "10.96.7.7")])
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        #expect(try Self.registry(["apply", "-f", file.path], cluster: cluster).stdout == "service/late created\n")
        for server in [one, two] {
            #expect(try Self.waitFor(server, "late.shop.svc.cluster.local", ["10.96.7.7"]), "\(server.log)")
        }
        let table = try Self.registry(["get", "services", "-n", "shop"], cluster: cluster)
        #expect(table.stdout.contains("late") && table.stdout.contains("10.96.7.7") && table.stdout.hasPrefix("NAME"), "\(table.stdout)")
        // kubectl's columns, AGE last: `apply` set the creation time as the API server does.
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.split(separator: " ") == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], "\(table.stdout)")
        let lateAge = lines.first { $0.hasPrefix("late ") }?.split(separator: " ").last.map(String.init) ?? ""
        #expect(lateAge.wholeMatch(of: /[0-9]+s/) != nil, "\(table.stdout)")

        // A delete: NXDOMAIN on both.
        let deleted = try Self.registry(["delete", "service", "late", "-n", "shop"], cluster: cluster)
        #expect(deleted.stdout == "service \"late\" deleted\n", "\(deleted.stdout)\(deleted.stderr)")
        for server in [one, two] {
            #expect(try Self.waitFor(server, "late.shop.svc.cluster.local", [], status: "NXDOMAIN"), "\(server.log)")
            #expect(try Client.dig.query(port: server.port, "api.shop.svc.cluster.local").data(ofType: "A") == ["10.96.120.15"])
        }
        #expect(try Self.registry(["delete", "service", "late", "-n", "shop"], cluster: cluster).status == 1)

        // get -o yaml prints a List with each object's resourceVersion; delete -f removes a file's objects.
        let yaml = try Self.registry(["get", "svc", "-n", "shop", "-o", "yaml"], cluster: cluster)
        #expect(yaml.status == 0 && yaml.stdout.contains("kind: List") && yaml.stdout.contains("name: api") && yaml.stdout.contains("resourceVersion:"), "\(yaml.stdout)")
        let shop = BuiltProducts.packageRoot.appendingPathComponent("Sources/clusterdns/example-cluster/shop.yaml").path
        let emptied = try Self.registry(["delete", "-f", shop], cluster: cluster)
        #expect(emptied.status == 0 && emptied.stdout.contains("service \"api\" deleted"), "\(emptied.stdout)\(emptied.stderr)")
        for server in [one, two] {
            #expect(try Self.waitFor(server, "api.shop.svc.cluster.local", [], status: "NXDOMAIN"), "\(server.log)")
        }
    }

    @Test func replicaStartedWhileEtcdIsDownAnswersServfailUntilItHasListed() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        #expect(try Self.registry(["apply", "-f", Self.exampleCluster], cluster: cluster).status == 0)
        for index in 0..<3 { cluster.kill(index) }

        let server = try Self.replica(cluster)
        defer { server.stop() }
        for _ in 0..<3 {
            let output = try Client.dig.query(port: server.port, "api.shop.svc.cluster.local")
            #expect(output.status == "SERVFAIL", "\(output)")
            let missing = try Client.dig.query(port: server.port, "no-such-service.shop.svc.cluster.local")
            #expect(missing.status == "SERVFAIL", "a name not heard of yet must not be NXDOMAIN: \(missing)")
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(server.waitForLog(containing: "no complete list yet", timeout: 10), "\(server.log)")

        for index in 0..<3 { try cluster.restart(index, waiting: false) }
        for index in 0..<3 { try cluster.waitHealthy(index, timeout: 20) }
        #expect(try Self.waitFor(server, "api.shop.svc.cluster.local", ["10.96.120.15"], limit: 20), "\(server.log)")
        #expect(try Self.waitFor(server, "no-such-service.shop.svc.cluster.local", [], status: "NXDOMAIN"))
    }

    @Test func leaderAndQuorumLossNeverFailAQueryAndWritesResume() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        #expect(try Self.registry(["apply", "-f", Self.exampleCluster], cluster: cluster).status == 0)
        let one = try Self.replica(cluster)
        defer { one.stop() }
        let two = try Self.replica(cluster)
        defer { two.stop() }
        for server in [one, two] { #expect(try Self.waitFor(server, "api.shop.svc.cluster.local", ["10.96.120.15"])) }

        // Kill the leader while both replicas are asked, for 3 s, and while a write is under way.
        let file = try Self.serviceFile((1...20).map { ("during-\($0)", "shop", "10.96.8.\(100 + $0)") })
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let leader = try cluster.leader()
        let writing = try ChildProcess([BuiltProducts.clusterdns, "registry", "apply", "-f", file.path, "--etcd", cluster.endpointList])
        cluster.kill(leader)
        var failures: [String] = []
        var asked = 0
        let until = Date().addingTimeInterval(3)
        while Date() < until && asked < 400 {
            for server in [one, two] {
                let output = try Client.dig.query(port: server.port, "api.shop.svc.cluster.local")
                asked += 1
                // dig's random source port can be the server's own (an ephemeral port too, bound
                // with SO_REUSEPORT by the same user): the kernel then hands dig its own query.
                if output.raw.contains("query response not set") { continue }
                if output.status != "NOERROR" || output.data(ofType: "A") != ["10.96.120.15"] { failures.append(output.raw) }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(asked) queries failed after the leader died: \(failures.first ?? "")")
        // The write under way went through the survivors (each object retried on the next member).
        #expect(writing.wait(timeout: 60) == 0, "\(writing.stdout)\(writing.stderr)")
        writing.removeFiles()
        for server in [one, two] { #expect(try Self.waitFor(server, "during-20.shop.svc.cluster.local", ["10.96.8.120"]), "\(server.log)") }

        // Writes after it, too.
        let later = try Self.serviceFile([("after-leader", "shop", "10.96.8.1")])
        defer { try? FileManager.default.removeItem(at: later.deletingLastPathComponent()) }
        let written = try Self.registry(["apply", "-f", later.path], cluster: cluster)
        #expect(written.status == 0, "\(written.stderr)")
        for server in [one, two] { #expect(try Self.waitFor(server, "after-leader.shop.svc.cluster.local", ["10.96.8.1"]), "\(server.log)") }

        // A second member gone: no quorum. Every name still answers, from the last good registry.
        let second = cluster.isRunning.firstIndex(of: true)!
        cluster.kill(second)
        let stale = Date().addingTimeInterval(6)
        while Date() < stale {
            for server in [one, two] {
                let output = try Client.dig.query(port: server.port, "after-leader.shop.svc.cluster.local")
                #expect(output.status == "NOERROR" && output.data(ofType: "A") == ["10.96.8.1"], "\(output)")
                #expect(try Client.dig.query(port: server.port, "api.shop.svc.cluster.local").data(ofType: "A") == ["10.96.120.15"])
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        for server in [one, two] { #expect(server.waitForLog(containing: "the last good registry", timeout: 10), "\(server.log)") }

        // Both back: new writes are seen again, without a restart of the replicas.
        try cluster.restart(leader, waiting: false)
        try cluster.restart(second, waiting: false)
        for index in 0..<3 { try cluster.waitHealthy(index, timeout: 20) }
        let back = try Self.serviceFile([("after-quorum", "shop", "10.96.8.2")])
        defer { try? FileManager.default.removeItem(at: back.deletingLastPathComponent()) }
        #expect(try Self.registry(["apply", "-f", back.path], cluster: cluster).status == 0)
        for server in [one, two] {
            #expect(try Self.waitFor(server, "after-quorum.shop.svc.cluster.local", ["10.96.8.2"], limit: 20), "\(server.log)")
            #expect(server.waitForLog(containing: "etcd reachable again", timeout: 5), "\(server.log)")
        }

        // A replica restarted serves everything again.
        one.stop()
        let restarted = try Self.replica(cluster)
        defer { restarted.stop() }
        #expect(try Self.waitFor(restarted, "after-quorum.shop.svc.cluster.local", ["10.96.8.2"]), "\(restarted.log)")
        #expect(try Self.waitFor(restarted, "during-7.shop.svc.cluster.local", ["10.96.8.107"]))
    }

    @Test func replicaDisconnectedAcrossACompactionRelistsAndLosesNothing() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let file = try Self.serviceFile([("stays", "shop", "10.96.9.1"), ("goes", "shop", "10.96.9.2"), ("moves", "shop", "10.96.9.3"), ("spoils", "shop", "10.96.9.5")])
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        #expect(try Self.registry(["apply", "-f", file.path], cluster: cluster).status == 0)
        // This replica knows one member only: killing it cuts the replica off.
        let server = try Self.replica(cluster, endpoints: cluster.members[2].clientURL)
        defer { server.stop() }
        #expect(try Self.waitFor(server, "goes.shop.svc.cluster.local", ["10.96.9.2"]))
        cluster.kill(2)

        // Meanwhile: a delete, a change, a new Service, then the history compacted away.
        #expect(try Self.registry(["delete", "service", "goes", "-n", "shop"], cluster: cluster).status == 0)
        let changed = try Self.serviceFile([("moves", "shop", "10.96.9.33"), ("new", "shop", "10.96.9.4")])
        defer { try? FileManager.default.removeItem(at: changed.deletingLastPathComponent()) }
        _ = try Self.registry(["delete", "service", "moves", "-n", "shop"], cluster: cluster)
        #expect(try Self.registry(["apply", "-f", changed.path], cluster: cluster).status == 0)
        // A value gone bad meanwhile: the relist keeps its last good version.
        let spoilt = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"spoils","namespace":"shop"},"spec":{"clusterIP":"10.96.9.999","ports":[{"port":80}]}}"#
        #expect(try cluster.etcdctl(["put", "/registry/services/specs/shop/spoils", spoilt]).status == 0)
        let status = try cluster.etcdctl(["endpoint", "status", "-w", "json"])
        let revision = try #require(status.stdout.firstMatch(of: /"revision":(\d+)/).map { String($0.1) })
        let compacted = try cluster.etcdctl(["compact", revision, "--physical"])
        #expect(compacted.status == 0, "\(compacted.stderr)")
        // Still the old registry meanwhile.
        #expect(try Client.dig.query(port: server.port, "goes.shop.svc.cluster.local").data(ofType: "A") == ["10.96.9.2"])

        try cluster.restart(2)
        #expect(try Self.waitFor(server, "new.shop.svc.cluster.local", ["10.96.9.4"], limit: 20), "\(server.log)")
        #expect(try Self.waitFor(server, "goes.shop.svc.cluster.local", [], status: "NXDOMAIN"))
        #expect(try Self.waitFor(server, "moves.shop.svc.cluster.local", ["10.96.9.33"]))
        #expect(try Self.waitFor(server, "stays.shop.svc.cluster.local", ["10.96.9.1"]))
        #expect(server.log.contains("listing /registry/ again") || server.log.contains("listed /registry/ again"), "\(server.log)")
        #expect(server.log.contains("/registry/services/specs/shop/spoils: bad value skipped, its last good version is kept"), "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "spoils.shop.svc.cluster.local").data(ofType: "A") == ["10.96.9.5"])
    }

    @Test func aMemberThatHangsIsNoticedAndTheReplicaMovesOn() throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        let file = try Self.serviceFile([("before", "shop", "10.96.6.1")])
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        #expect(try Self.registry(["apply", "-f", file.path], cluster: cluster).status == 0)
        // The replica watches member 3 first; member 1 is its fallback.
        let server = try Self.replica(cluster, endpoints: "\(cluster.members[2].clientURL),\(cluster.members[0].clientURL)")
        defer { server.stop() }
        #expect(try Self.waitFor(server, "before.shop.svc.cluster.local", ["10.96.6.1"]))
        // Frozen, member 3 holds the watch's connection open and silent: no EOF, no error.
        cluster.pause(2)
        defer { cluster.resume(2) }
        let after = try Self.serviceFile([("after", "shop", "10.96.6.2")])
        defer { try? FileManager.default.removeItem(at: after.deletingLastPathComponent()) }
        let written = try run(BuiltProducts.clusterdns, ["registry", "apply", "-f", after.path, "--etcd", "\(cluster.members[0].clientURL),\(cluster.members[1].clientURL)"], timeout: 60)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(try Self.waitFor(server, "after.shop.svc.cluster.local", ["10.96.6.2"], limit: 15), "\(server.log)")
        #expect(server.log.contains("does not answer"), "\(server.log)")
    }

    @Test func badValuesAreSkippedByKeyAndTheLastGoodVersionServed() throws {
        let cluster = try EtcdCluster(size: 1)
        defer { cluster.stop() }
        let file = try Self.serviceFile([("good", "shop", "10.96.5.1"), ("spoilt", "shop", "10.96.5.2")])
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        #expect(try Self.registry(["apply", "-f", file.path], cluster: cluster).status == 0)
        try cluster.etcdctl(["put", "/registry/services/specs/shop/broken", "{not json"])
        // Resources DNS does not read are not even listed: three Service keys, of 53.
        for index in 0..<50 { _ = try cluster.etcdctl(["put", "/registry/secrets/shop/token-\(index)", "opaque"]) }
        let server = try Self.replica(cluster)
        defer { server.stop() }
        #expect(try Self.waitFor(server, "good.shop.svc.cluster.local", ["10.96.5.1"]))
        #expect(server.log.contains("listed 3 keys of /registry/"), "\(server.log)")
        #expect(server.waitForLog(containing: "/registry/services/specs/shop/broken: bad value skipped", timeout: 5), "\(server.log)")

        // A bad update keeps the last good version; a value naming another object is refused.
        let bad = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"spoilt","namespace":"shop"},"spec":{"clusterIP":"10.96.5.999","ports":[{"port":80}]}}"#
        try cluster.etcdctl(["put", "/registry/services/specs/shop/spoilt", bad])
        #expect(server.waitForLog(containing: "/registry/services/specs/shop/spoilt: bad value skipped, its last good version is kept", timeout: 5), "\(server.log)")
        #expect(try Client.dig.query(port: server.port, "spoilt.shop.svc.cluster.local").data(ofType: "A") == ["10.96.5.2"])
        let elsewhere = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"other","namespace":"shop"},"spec":{"clusterIP":"10.96.5.3","ports":[{"port":80}]}}"#
        try cluster.etcdctl(["put", "/registry/services/specs/shop/misplaced", elsewhere])
        #expect(server.waitForLog(containing: "but its key says Service shop/misplaced", timeout: 5), "\(server.log)")
        #expect(try Self.waitFor(server, "other.shop.svc.cluster.local", [], status: "NXDOMAIN"))
        #expect(try Client.dig.query(port: server.port, "good.shop.svc.cluster.local").data(ofType: "A") == ["10.96.5.1"])
    }

    @Test func concurrentAppliesAllocateClusterIPsThatNeverClash() throws {
        let cluster = try EtcdCluster(size: 1)
        defer { cluster.stop() }
        let first = try Self.serviceFile((1...12).map { ("svc-\($0)", "left", nil) })
        let second = try Self.serviceFile((1...12).map { ("svc-\($0)", "right", nil) })
        defer {
            try? FileManager.default.removeItem(at: first.deletingLastPathComponent())
            try? FileManager.default.removeItem(at: second.deletingLastPathComponent())
        }
        let arguments = { (file: URL) in
            [BuiltProducts.clusterdns, "registry", "apply", "-f", file.path, "--etcd", cluster.endpointList, "--service-cidr", "10.100.0.0/24"]
        }
        let children = try [ChildProcess(arguments(first)), ChildProcess(arguments(second))]
        for child in children {
            #expect(child.wait(timeout: 60) == 0, "\(child.stdout)\(child.stderr)")
            #expect(child.stdout.components(separatedBy: " created\n").count == 13, "\(child.stdout)")
            child.removeFiles()
        }
        let listed = try Self.registry(["get", "services", "-A", "-o", "json"], cluster: cluster)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        let items = try #require(list["items"] as? [[String: Any]])
        let addresses = items.compactMap { ($0["spec"] as? [String: Any])?["clusterIP"] as? String }
        #expect(items.count == 24 && addresses.count == 24)
        #expect(Set(addresses).count == 24, "two Services got the same ClusterIP: \(addresses.sorted())")
        #expect(addresses.allSatisfy { $0.hasPrefix("10.100.0.") })
        // Applied again, each keeps its address.
        let again = try Self.registry(["apply", "-f", first.path, "--service-cidr", "10.100.0.0/24"], cluster: cluster)
        #expect(again.stdout.components(separatedBy: " unchanged\n").count == 13, "\(again.stdout)\(again.stderr)")

        // A Service given another address moves its claim; one naming a claimed address is refused.
        let held = try cluster.etcdctl(["get", "--prefix", "/registry/clusterdns/clusterips/", "--keys-only"]).stdout
        let old = try #require(addresses.first { held.contains("/registry/clusterdns/clusterips/\($0)\n") })
        let owner = try #require(items.first { ($0["spec"] as? [String: Any])?["clusterIP"] as? String == old }?["metadata"] as? [String: Any])
        let moved = try Self.serviceFile([(owner["name"] as! String, owner["namespace"] as! String, "10.100.0.250")])
        defer { try? FileManager.default.removeItem(at: moved.deletingLastPathComponent()) }
        #expect(try Self.registry(["apply", "-f", moved.path], cluster: cluster).stdout.hasSuffix(" configured\n"))
        let claims = try cluster.etcdctl(["get", "--prefix", "/registry/clusterdns/clusterips/", "--keys-only"]).stdout
        #expect(claims.contains("clusterips/10.100.0.250\n") && !claims.contains("clusterips/\(old)\n"), "\(claims)")
        let clash = try Self.serviceFile([("intruder", "left", "10.100.0.250")])
        defer { try? FileManager.default.removeItem(at: clash.deletingLastPathComponent()) }
        let refused = try Self.registry(["apply", "-f", clash.path], cluster: cluster)
        #expect(refused.status == 1 && refused.stderr.contains("Service left/intruder: ClusterIP 10.100.0.250 is already allocated to Service"), "\(refused.stderr)")
    }
}

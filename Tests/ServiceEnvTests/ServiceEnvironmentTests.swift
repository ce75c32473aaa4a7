import ServiceEnv
import ServiceRegistry
import Testing

/// Name clashes between Services, and merging with an existing environment.
@Suite struct ServiceEnvironmentTests {
    /// `foo-service`'s `_PORT` URL and `foo`'s `_SERVICE_PORT` number share the name `FOO_SERVICE_PORT`.
    @Test func aClashIsResolvedByTheLaterServiceInNameOrderAndReportedWithBoth() {
        let snapshot = Fixtures.snapshot(services: [
            Fixtures.service("foo-service", clusterIPs: ["10.96.0.2"], ports: [ServicePort(port: 8080)]),
            Fixtures.service("foo", clusterIPs: ["10.96.0.1"], ports: [ServicePort(port: 80)]),
        ])
        let environment = ServiceEnvironment(snapshot: snapshot, namespace: "shop")
        #expect(environment.variables.filter { $0.name == "FOO_SERVICE_PORT" } == variables(["FOO_SERVICE_PORT": "tcp://10.96.0.2:8080"]))
        #expect(environment.collisions == [VariableCollision(
            name: "FOO_SERVICE_PORT",
            overwritten: ObjectReference(kind: "Service", namespace: "shop", name: "foo"), overwrittenValue: "80",
            winner: ObjectReference(kind: "Service", namespace: "shop", name: "foo-service"), winningValue: "tcp://10.96.0.2:8080"
        )])
        #expect(environment.collisions[0].description
            == "FOO_SERVICE_PORT is set by both Service shop/foo (80) and Service shop/foo-service (tcp://10.96.0.2:8080); using the value of Service shop/foo-service")
    }

    @Test func theWinningValueSitsWhereTheWinnerWritesItAndEachNameAppearsOnce() {
        let snapshot = Fixtures.snapshot(services: [
            Fixtures.service("a", clusterIPs: ["10.96.0.1"], ports: [ServicePort(port: 80)]),
            Fixtures.service("a-port-80-tcp", clusterIPs: ["10.96.0.2"], ports: [ServicePort(port: 81)]),
        ])
        let environment = ServiceEnvironment(snapshot: snapshot, namespace: "shop")
        #expect(Set(environment.variables.names).count == environment.variables.count)
        #expect(environment.variables.names == [
            "A_SERVICE_HOST", "A_SERVICE_PORT", "A_PORT",
            "A_PORT_80_TCP", "A_PORT_80_TCP_PROTO", /* A_PORT_80_TCP_PORT moves to the winner */ "A_PORT_80_TCP_ADDR",
            "A_PORT_80_TCP_SERVICE_HOST", "A_PORT_80_TCP_SERVICE_PORT", "A_PORT_80_TCP_PORT",
            "A_PORT_80_TCP_PORT_81_TCP", "A_PORT_80_TCP_PORT_81_TCP_PROTO", "A_PORT_80_TCP_PORT_81_TCP_PORT",
            "A_PORT_80_TCP_PORT_81_TCP_ADDR",
        ])
        #expect(environment.variables["A_PORT_80_TCP_PORT"] == "tcp://10.96.0.2:81")
        #expect(environment.collisions.map(\.name) == ["A_PORT_80_TCP_PORT"])
        #expect(environment.collisions.map(\.overwritten.name) == ["a"])
        #expect(environment.collisions.map(\.winner.name) == ["a-port-80-tcp"])
    }

    @Test func clashResolutionDoesNotDependOnInputOrder() {
        let foo = Fixtures.service("foo", clusterIPs: ["10.96.0.1"])
        let fooService = Fixtures.service("foo-service", clusterIPs: ["10.96.0.2"])
        let one = ServiceEnvironment(snapshot: Fixtures.snapshot(services: [foo, fooService]), namespace: "shop")
        let other = ServiceEnvironment(snapshot: Fixtures.snapshot(services: [fooService, foo]), namespace: "shop")
        #expect(one.variables == other.variables)
        #expect(one.collisions == other.collisions)
    }

    @Test func servicesWithDistinctNamesDoNotClash() {
        let snapshot = Fixtures.snapshot(services: [Fixtures.masterService, Fixtures.service("web"), Fixtures.service("web-api")])
        #expect(ServiceEnvironment(snapshot: snapshot, namespace: "shop").collisions.isEmpty)
    }

    @Test func theCurrentEnvironmentWinsAndKeepsItsOrder() {
        let environment = ServiceEnvironment(services: [Fixtures.service("web", clusterIPs: ["10.96.0.80"])], namespace: "shop")
        let current = variables(["PATH": "/usr/bin", "WEB_SERVICE_HOST": "127.0.0.1", "HOME": "/root"])
        let merged = environment.merged(into: current)
        #expect(Array(merged.prefix(3)) == current)
        #expect(merged.filter { $0.name == "WEB_SERVICE_HOST" } == variables(["WEB_SERVICE_HOST": "127.0.0.1"]))
        #expect(Array(merged.dropFirst(3)).names == [
            "WEB_SERVICE_PORT", "WEB_PORT", "WEB_PORT_80_TCP", "WEB_PORT_80_TCP_PROTO", "WEB_PORT_80_TCP_PORT", "WEB_PORT_80_TCP_ADDR",
        ])
    }

    @Test func anEmptyCurrentValueStillWins() {
        let environment = ServiceEnvironment(services: [Fixtures.service("web")], namespace: "shop")
        #expect(environment.merged(into: variables(["WEB_PORT": ""]))["WEB_PORT"] == "")
    }

    @Test(arguments: [("A=b", "A", "b"), ("A=b=c", "A", "b=c"), ("A=", "A", ""), ("=x", "", "x")])
    func environEntriesSplitAtTheFirstEquals(entry: String, name: String, value: String) {
        #expect(EnvironmentVariable(environEntry: entry) == EnvironmentVariable(name: name, value: value))
    }

    @Test func environEntriesWithoutEqualsAreNotVariables() {
        #expect(EnvironmentVariable(environEntry: "JUSTANAME") == nil)
    }
}

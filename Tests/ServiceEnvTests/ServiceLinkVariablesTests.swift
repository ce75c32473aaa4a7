import ServiceEnv
import ServiceRegistry
import Testing

/// The kubelet's per-Service variables (`envvars.FromServices`), pinned against its own test table.
@Suite struct ServiceLinkVariablesTests {
    @Test func singlePortServiceGivesTheSevenVariablesOfTheKubernetesDocs() {
        let redis = Fixtures.service("redis-primary", clusterIPs: ["10.0.0.11"], ports: [ServicePort(port: 6379)])
        #expect(ServiceLinkVariables.variables(for: redis) == variables([
            "REDIS_PRIMARY_SERVICE_HOST": "10.0.0.11",
            "REDIS_PRIMARY_SERVICE_PORT": "6379",
            "REDIS_PRIMARY_PORT": "tcp://10.0.0.11:6379",
            "REDIS_PRIMARY_PORT_6379_TCP": "tcp://10.0.0.11:6379",
            "REDIS_PRIMARY_PORT_6379_TCP_PROTO": "tcp",
            "REDIS_PRIMARY_PORT_6379_TCP_PORT": "6379",
            "REDIS_PRIMARY_PORT_6379_TCP_ADDR": "10.0.0.11",
        ]))
    }

    /// Upstream `TestFromServices` (pkg/kubelet/envvars/envvars_test.go), service for service, in input order.
    @Test func reproducesTheKubeletsFromServicesTable() {
        let services = [
            Fixtures.service("foo-bar", clusterIPs: ["1.2.3.4"], ports: [ServicePort(protocol: .tcp, port: 8080)]),
            Fixtures.service("abc-123", clusterIPs: ["5.6.7.8"], ports: [
                ServicePort(name: "u-d-p", protocol: .udp, port: 8081),
                ServicePort(name: "t-c-p", protocol: .tcp, port: 8081),
            ]),
            Fixtures.service("q-u-u-x", clusterIPs: ["9.8.7.6"], ports: [
                ServicePort(port: 8082),
                ServicePort(name: "8083", port: 8083),
            ]),
            Fixtures.service("svrc-clusterip-none", clusterIPs: [], headless: true, ports: [ServicePort(port: 8082)]),
            Fixtures.service("svrc-clusterip-empty", clusterIPs: [], ports: [ServicePort(port: 8082)]),
            Fixtures.service("super-ipv6", clusterIPs: ["2001:DB8::"], ports: [
                ServicePort(name: "u-d-p", protocol: .udp, port: 8084),
                ServicePort(name: "t-c-p", protocol: .tcp, port: 8084),
            ]),
            Fixtures.service("sctp-1", clusterIPs: ["1.2.3.4"], ports: [ServicePort(name: "s-c-t-p", protocol: .sctp, port: 777)]),
        ]
        let environment = ServiceEnvironment(services: services, namespace: "shop")
        // Upstream expects "2001:DB8::" verbatim; our model keeps addresses, so the text is canonical (lower case).
        #expect(environment.variables == variables([
            "FOO_BAR_SERVICE_HOST": "1.2.3.4",
            "FOO_BAR_SERVICE_PORT": "8080",
            "FOO_BAR_PORT": "tcp://1.2.3.4:8080",
            "FOO_BAR_PORT_8080_TCP": "tcp://1.2.3.4:8080",
            "FOO_BAR_PORT_8080_TCP_PROTO": "tcp",
            "FOO_BAR_PORT_8080_TCP_PORT": "8080",
            "FOO_BAR_PORT_8080_TCP_ADDR": "1.2.3.4",
            "ABC_123_SERVICE_HOST": "5.6.7.8",
            "ABC_123_SERVICE_PORT": "8081",
            "ABC_123_SERVICE_PORT_U_D_P": "8081",
            "ABC_123_SERVICE_PORT_T_C_P": "8081",
            "ABC_123_PORT": "udp://5.6.7.8:8081",
            "ABC_123_PORT_8081_UDP": "udp://5.6.7.8:8081",
            "ABC_123_PORT_8081_UDP_PROTO": "udp",
            "ABC_123_PORT_8081_UDP_PORT": "8081",
            "ABC_123_PORT_8081_UDP_ADDR": "5.6.7.8",
            "ABC_123_PORT_8081_TCP": "tcp://5.6.7.8:8081",
            "ABC_123_PORT_8081_TCP_PROTO": "tcp",
            "ABC_123_PORT_8081_TCP_PORT": "8081",
            "ABC_123_PORT_8081_TCP_ADDR": "5.6.7.8",
            "Q_U_U_X_SERVICE_HOST": "9.8.7.6",
            "Q_U_U_X_SERVICE_PORT": "8082",
            "Q_U_U_X_SERVICE_PORT_8083": "8083",
            "Q_U_U_X_PORT": "tcp://9.8.7.6:8082",
            "Q_U_U_X_PORT_8082_TCP": "tcp://9.8.7.6:8082",
            "Q_U_U_X_PORT_8082_TCP_PROTO": "tcp",
            "Q_U_U_X_PORT_8082_TCP_PORT": "8082",
            "Q_U_U_X_PORT_8082_TCP_ADDR": "9.8.7.6",
            "Q_U_U_X_PORT_8083_TCP": "tcp://9.8.7.6:8083",
            "Q_U_U_X_PORT_8083_TCP_PROTO": "tcp",
            "Q_U_U_X_PORT_8083_TCP_PORT": "8083",
            "Q_U_U_X_PORT_8083_TCP_ADDR": "9.8.7.6",
            "SUPER_IPV6_SERVICE_HOST": "2001:db8::",
            "SUPER_IPV6_SERVICE_PORT": "8084",
            "SUPER_IPV6_SERVICE_PORT_U_D_P": "8084",
            "SUPER_IPV6_SERVICE_PORT_T_C_P": "8084",
            "SUPER_IPV6_PORT": "udp://[2001:db8::]:8084",
            "SUPER_IPV6_PORT_8084_UDP": "udp://[2001:db8::]:8084",
            "SUPER_IPV6_PORT_8084_UDP_PROTO": "udp",
            "SUPER_IPV6_PORT_8084_UDP_PORT": "8084",
            "SUPER_IPV6_PORT_8084_UDP_ADDR": "2001:db8::",
            "SUPER_IPV6_PORT_8084_TCP": "tcp://[2001:db8::]:8084",
            "SUPER_IPV6_PORT_8084_TCP_PROTO": "tcp",
            "SUPER_IPV6_PORT_8084_TCP_PORT": "8084",
            "SUPER_IPV6_PORT_8084_TCP_ADDR": "2001:db8::",
            "SCTP_1_SERVICE_HOST": "1.2.3.4",
            "SCTP_1_SERVICE_PORT": "777",
            "SCTP_1_SERVICE_PORT_S_C_T_P": "777",
            "SCTP_1_PORT": "sctp://1.2.3.4:777",
            "SCTP_1_PORT_777_SCTP": "sctp://1.2.3.4:777",
            "SCTP_1_PORT_777_SCTP_PROTO": "sctp",
            "SCTP_1_PORT_777_SCTP_PORT": "777",
            "SCTP_1_PORT_777_SCTP_ADDR": "1.2.3.4",
        ]))
        #expect(environment.collisions.isEmpty)
    }

    @Test func everyServiceGivesTwoPlusNamedPortsPlusOnePlusFourPerPort() {
        let web = Fixtures.service("web", ports: [
            ServicePort(name: "http", port: 80), ServicePort(port: 81), ServicePort(name: "admin", protocol: .udp, port: 9000),
        ])
        #expect(ServiceLinkVariables.variables(for: web).count == 2 + 2 + 1 + 4 * 3)
    }

    @Test func serviceAndPortUseTheFirstPortInSpecOrderNotTheLowest() {
        let web = Fixtures.service("web", ports: [ServicePort(name: "http", port: 8080), ServicePort(name: "low", port: 80)])
        let result = ServiceLinkVariables.variables(for: web)
        #expect(result["WEB_SERVICE_PORT"] == "8080")
        #expect(result["WEB_PORT"] == "tcp://10.96.0.10:8080")
    }

    @Test func unnamedPortsGetNoServicePortNameVariable() {
        let web = Fixtures.service("web", ports: [ServicePort(port: 80), ServicePort(name: "metrics", port: 9090)])
        let names = ServiceLinkVariables.variables(for: web).names.filter { $0.hasPrefix("WEB_SERVICE_PORT") }
        #expect(names == ["WEB_SERVICE_PORT", "WEB_SERVICE_PORT_METRICS"])
    }

    @Test(arguments: [
        (PortProtocol.udp, "udp", "UDP"),
        (PortProtocol.sctp, "sctp", "SCTP"),
        (PortProtocol.tcp, "tcp", "TCP"),
    ])
    func firstPortProtocolIsUpperCaseInNamesAndLowerCaseInValues(protocol: PortProtocol, lower: String, upper: String) {
        let dns = Fixtures.service("dns", clusterIPs: ["10.96.0.53"], ports: [ServicePort(name: "dns", protocol: `protocol`, port: 53)])
        let result = ServiceLinkVariables.variables(for: dns)
        #expect(result["DNS_PORT"] == "\(lower)://10.96.0.53:53")
        #expect(result["DNS_PORT_53_\(upper)"] == "\(lower)://10.96.0.53:53")
        #expect(result["DNS_PORT_53_\(upper)_PROTO"] == lower)
        #expect(result["DNS_SERVICE_PORT"] == "53")
    }

    @Test func aPortWithoutProtocolMeansTCP() {
        #expect(ServicePort(port: 80).protocol == .tcp)
        let web = Fixtures.service("web", ports: [ServicePort(port: 80)])
        #expect(ServiceLinkVariables.variables(for: web)["WEB_PORT_80_TCP_PROTO"] == "tcp")
    }

    @Test func samePortNumberWithTwoProtocolsGivesTwoBlocks() {
        let dns = Fixtures.service("dns", ports: [ServicePort(name: "dns", protocol: .udp, port: 53), ServicePort(name: "dns-tcp", port: 53)])
        let names = ServiceLinkVariables.variables(for: dns).names
        #expect(names.contains("DNS_PORT_53_UDP") && names.contains("DNS_PORT_53_TCP"))
        #expect(names.firstIndex(of: "DNS_PORT_53_UDP")! < names.firstIndex(of: "DNS_PORT_53_TCP")!)
    }

    @Test(arguments: [
        ("web", "WEB"),
        ("my-nginx", "MY_NGINX"),
        ("a-b-c-1", "A_B_C_1"),
        ("8083", "8083"),
        ("http-2", "HTTP_2"),
    ])
    func variableNamesAreUpperCasedWithDashesAsUnderscores(name: String, expected: String) {
        #expect(ServiceLinkVariables.variableName(name) == expected)
    }

    @Test func aPortNameThatStartsWithADigitKeepsIt() {
        let web = Fixtures.service("web", ports: [ServicePort(name: "8083", port: 8083)])
        #expect(ServiceLinkVariables.variables(for: web)["WEB_SERVICE_PORT_8083"] == "8083")
    }

    @Test func ipv6AddressesAreBracketedOnlyInsideURLs() {
        let api = Fixtures.service("api", clusterIPs: ["fd00:10:96::1"], ports: [ServicePort(name: "https", port: 443)])
        #expect(ServiceLinkVariables.variables(for: api) == variables([
            "API_SERVICE_HOST": "fd00:10:96::1",
            "API_SERVICE_PORT": "443",
            "API_SERVICE_PORT_HTTPS": "443",
            "API_PORT": "tcp://[fd00:10:96::1]:443",
            "API_PORT_443_TCP": "tcp://[fd00:10:96::1]:443",
            "API_PORT_443_TCP_PROTO": "tcp",
            "API_PORT_443_TCP_PORT": "443",
            "API_PORT_443_TCP_ADDR": "fd00:10:96::1",
        ]))
    }

    /// Go's `JoinHostPort` brackets any host with a `:`, so an address without `::` is bracketed too.
    @Test(arguments: ["2001:db8:1:2:3:4:5:6", "fd00::1", "::1"])
    func everyIPv6FormIsBracketedInURLs(address: String) {
        let api = Fixtures.service("api", clusterIPs: [address], ports: [ServicePort(port: 443)])
        let result = ServiceLinkVariables.variables(for: api)
        #expect(result["API_PORT"] == "tcp://[\(address)]:443")
        #expect(result["API_PORT_443_TCP"] == "tcp://[\(address)]:443")
        #expect(result["API_SERVICE_HOST"] == address)
    }

    @Test(arguments: [
        (["10.96.0.20", "fd00::20"], "10.96.0.20", "tcp://10.96.0.20:80"),
        (["fd00::20", "10.96.0.20"], "fd00::20", "tcp://[fd00::20]:80"),
    ])
    func dualStackServicesUseOnlyThePrimaryClusterIP(clusterIPs: [String], host: String, url: String) {
        let web = Fixtures.service("web", clusterIPs: clusterIPs)
        let result = ServiceLinkVariables.variables(for: web)
        #expect(result["WEB_SERVICE_HOST"] == host)
        #expect(result["WEB_PORT"] == url)
        #expect(result["WEB_PORT_80_TCP_ADDR"] == host)
        #expect(result.count == 7)
    }

    @Test(arguments: [
        Fixtures.service("headless", clusterIPs: [], headless: true),
        Fixtures.service("external", clusterIPs: [], type: .externalName, externalName: "db.example.com"),
        Fixtures.service("unallocated", clusterIPs: []),
        Fixtures.service("portless", ports: []),
    ])
    func servicesWithoutClusterIPOrPortsGetNoVariables(service: Service) {
        #expect(ServiceLinkVariables.variables(for: service).isEmpty)
    }

    @Test(arguments: [ServiceType.nodePort, .loadBalancer, .clusterIP])
    func nodePortAndLoadBalancerServicesGetVariablesLikeClusterIP(type: ServiceType) {
        let web = Fixtures.service("web", type: type)
        #expect(ServiceLinkVariables.variables(for: web).count == 7)
    }
}

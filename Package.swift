// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "ClusterDNS",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "clusterdns", targets: ["clusterdns"]),
        .library(name: "DNSWire", targets: ["DNSWire"]),
        .library(name: "ServiceRegistry", targets: ["ServiceRegistry"]),
        .library(name: "ClusterZones", targets: ["ClusterZones"]),
        .library(name: "DNSServer", targets: ["DNSServer"]),
        .library(name: "Forwarding", targets: ["Forwarding"]),
        .library(name: "ServiceEnv", targets: ["ServiceEnv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        .systemLibrary(
            name: "CLDNS",
            pkgConfig: "ldns",
            providers: [.apt(["libldns-dev"]), .brew(["ldns"])]
        ),
        .target(
            name: "DNSWire",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "ServiceRegistry",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
            ]
        ),
        .target(
            name: "ClusterZones",
            dependencies: [
                "DNSWire", "ServiceRegistry", "CPrefetch", "CLDNS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
            ]
        ),
        .target(name: "CPrefetch"),
        .target(name: "CUDPBatch"),
        .target(
            name: "Forwarding",
            dependencies: [
                "DNSWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "DNSServer",
            dependencies: [
                "DNSWire", "ClusterZones", "CUDPBatch", "Forwarding",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "EtcdRegistry",
            dependencies: [
                "ServiceRegistry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KubernetesRegistry",
            dependencies: [
                "ServiceRegistry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "Operations",
            dependencies: [
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "ServiceEnv",
            dependencies: ["ServiceRegistry"]
        ),
        .executableTarget(
            name: "clusterdns",
            dependencies: [
                "DNSWire", "ServiceRegistry", "ClusterZones", "DNSServer", "ServiceEnv", "EtcdRegistry", "KubernetesRegistry", "Operations", "Forwarding",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.copy("example-cluster")]
        ),
        .target(name: "LDNSTestSupport", dependencies: ["CLDNS"], path: "Tests/LDNSTestSupport"),
        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire", "LDNSTestSupport"]),
        .testTarget(name: "ServiceRegistryTests", dependencies: ["ServiceRegistry", "SpecSupport"], exclude: ["Fixtures"]),
        .target(
            name: "SpecSupport", dependencies: ["ClusterZones", "DNSWire", "ServiceRegistry"], path: "Tests/SpecSupport",
            resources: [.copy("spec-cluster")]
        ),
        .testTarget(name: "ClusterZonesTests", dependencies: ["ClusterZones", "DNSWire", "ServiceRegistry", "LDNSTestSupport", "SpecSupport"]),
        .testTarget(name: "DNSServerTests", dependencies: ["DNSServer", "DNSWire", "ClusterZones", "ServiceRegistry", "SpecSupport"]),
        .testTarget(name: "ForwardingTests", dependencies: ["Forwarding", "DNSWire"]),
        .testTarget(name: "ServiceEnvTests", dependencies: ["ServiceEnv", "ServiceRegistry"]),
        .testTarget(name: "KubernetesRegistryTests", dependencies: ["KubernetesRegistry", "ServiceRegistry"]),
        .target(
            name: "KubernetesTestServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Tests/KubernetesTestServer"
        ),
        .testTarget(name: "EndToEndTests", dependencies: [
            "ClusterZones", "DNSWire", "SpecSupport", "EtcdRegistry", "KubernetesTestServer", "KubernetesRegistry",
            .product(name: "Yams", package: "Yams"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)

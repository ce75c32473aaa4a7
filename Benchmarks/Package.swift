// swift-tools-version: 6.1
import PackageDescription

// Microbenchmarks (ordo-one/benchmark), kept out of the main package so that ordinary builds and CI
// never compile the benchmark stack. Run from this directory: `swift package benchmark`.
let package = Package(
    name: "ClusterDNSBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so the products resolve whatever the checkout directory is called.
        .package(name: "ClusterDNS", path: "../"),
        // MallocInterposer only: the default traits add RuntimeInterposer, which the mirror lacks.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "ClusterDNSBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DNSWire", package: "ClusterDNS"),
                .product(name: "ServiceRegistry", package: "ClusterDNS"),
                .product(name: "ClusterZones", package: "ClusterDNS"),
                .product(name: "DNSServer", package: "ClusterDNS"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/ClusterDNSBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

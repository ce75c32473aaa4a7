// swift-tools-version: 6.0
import PackageDescription

// Coverage-guided fuzzing with libFuzzer, kept out of the main package so that ordinary builds and
// CI never compile it. Each harness is an executable whose entry point is libFuzzer's: build and
// run with `Fuzz/run.sh HARNESS` (see Fuzz/README.md).
let package = Package(
    name: "ClusterDNSFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ClusterDNS", path: "../"),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "FuzzDecoder",
            dependencies: ["FuzzSupport", .product(name: "DNSWire", package: "ClusterDNS")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "FuzzManifests",
            dependencies: ["FuzzSupport", .product(name: "ServiceRegistry", package: "ClusterDNS")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "FuzzAnswerPaths",
            dependencies: [
                "FuzzSupport",
                .product(name: "DNSWire", package: "ClusterDNS"),
                .product(name: "ServiceRegistry", package: "ClusterDNS"),
                .product(name: "ClusterZones", package: "ClusterDNS"),
                .product(name: "DNSServer", package: "ClusterDNS"),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)

import ClusterZones
import DNSServer
import Logging
import ServiceLifecycle

/// Reads the static zone files again when their stamps change (every `interval`, as the manifest
/// source polls) and serves what it read, until shutdown.
struct StaticZoneWatchService: ServiceLifecycle.Service {
    let loader: StaticZoneLoader
    let pipeline: QueryPipeline
    let logger: Logger
    var interval: Duration = .milliseconds(200)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                loader.read { serveStaticZones($0, pipeline: pipeline, logger: logger) }
            }
        }
    }
}

/// Logs what a reading of the static zones found (the errors of the files it read, with file and
/// line) and serves its zones, when there is a pipeline to serve them yet.
func serveStaticZones(_ reading: StaticZoneReading, pipeline: QueryPipeline?, logger: Logger) {
    let read = Set(reading.changedFiles)
    for error in reading.errors where read.contains(error.file) {
        logger.error("\(error)")
    }
    for file in reading.keptFiles where read.contains(file) {
        logger.error("\(file) cannot be used as it is; its last good zone is served until it is fixed")
    }
    pipeline?.replaceStaticZones(reading.zones)
    let served = reading.zones.map { "\($0.origin) (\($0.file))" }
    logger.info("static zones: \(served.isEmpty ? "none" : served.joined(separator: ", ")) after reading \(reading.changedFiles.joined(separator: ", "))")
}

extension StaticZoneLoader {
    /// Reads every zone file for the first catalog, logging what is wrong with them.
    func firstZones(logger: Logger) -> [StaticZone] {
        var zones: [StaticZone] = []
        read(forced: true) { reading in
            serveStaticZones(reading, pipeline: nil, logger: logger)
            zones = reading.zones
        }
        return zones
    }
}

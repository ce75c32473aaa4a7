import DNSWire
import Dispatch
import ServiceRegistry

/// The indexes a catalog is built with, made in one walk over a snapshot's Services. For a large
/// registry the reverse index is filled on a second thread, from the addresses the walk hands over
/// in batches: after an etcd list the catalog is built while nothing else runs, and the walk
/// (each Service's published endpoints) and the reverse index took about as long each, one after
/// the other on one core.
struct CatalogIndexes {
    var published = PublishedEndpointIndex()
    var reverse: ReverseIndex
    var external = ExternalServiceIndex()

    /// Services from which the reverse index is filled on its own thread.
    static let pipelinedFrom = 20_000

    init(snapshot: RegistrySnapshot, domain: DNSName, pipelinedFrom threshold: Int = Self.pipelinedFrom) {
        reverse = ReverseIndex(domain: domain)
        guard snapshot.serviceCount >= threshold else {
            snapshot.forEachService { service in
                let key = ServiceKey(service)
                let endpoints = published.set(service, key: key, in: snapshot)
                reverse.add(reverse.contributions(of: service, key: key, endpoints: endpoints))
                external.add(service)
            }
            return
        }
        let filler = ReverseIndexFiller(reverse)
        var batch: [(IPAddress, ReverseIndex.PTRTarget)] = []
        batch.reserveCapacity(ReverseIndexFiller.batchSize)
        snapshot.forEachService { service in
            let key = ServiceKey(service)
            let endpoints = published.set(service, key: key, in: snapshot)
            batch += reverse.contributions(of: service, key: key, endpoints: endpoints)
            external.add(service)
            if batch.count >= ReverseIndexFiller.batchSize {
                filler.add(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        filler.add(batch)
        reverse = filler.finish()
    }
}

/// A reverse index filled on a serial queue of its own, batch after batch, in the order handed over
/// (so it is the index one thread would have made).
private final class ReverseIndexFiller: @unchecked Sendable {
    static let batchSize = 4096
    /// Touched only on `queue` until `finish` has waited for it.
    private var index: ReverseIndex
    private let queue = DispatchQueue(label: "clusterdns.catalog.reverse-index")

    init(_ index: ReverseIndex) {
        self.index = index
    }

    func add(_ batch: [(IPAddress, ReverseIndex.PTRTarget)]) {
        queue.async { self.index.add(batch) }
    }

    func finish() -> ReverseIndex {
        queue.sync { index }
    }
}

import Foundation
import Logging
import ServiceRegistry

/// The registry kept in etcd as a live source, the informer way: list the keys of the kinds it
/// reads at one revision (page by page), hand the result over whole (`replaceAll`, then `synced`), then
/// watch from that revision + 1 and turn each watch message into one batch of events (a txn's
/// writes arrive, and are applied, together).
///
/// - A watch that ends (the member died, lost its leader, went silent) is opened again from the
///   last revision + 1 on the next member, with backoff; nothing is listed again.
/// - A watch whose revision was compacted away lists again and swaps the result in whole: what
///   disappeared is deleted, nothing is lost or stale.
/// - While etcd cannot be reached, nothing is published: the last good registry keeps answering,
///   and the log says how stale it is.
/// - A value that is not a valid object (bad JSON, a failed check, a key that does not match its
///   object) is skipped with an error naming the key; the key's last good version is kept (the
///   store's: the source keeps no copy of the objects).
public final class EtcdSource: Sendable {
    /// What the source hands the server.
    public enum Publication: Sendable {
        /// The first complete list: serve this registry (until now nothing was known).
        case synced(RegistrySnapshot, revision: Int64)
        /// A change after that.
        case update(RegistryUpdate, revision: Int64)
    }

    public let client: EtcdClient
    public let layout: EtcdKeyLayout
    public let options: RegistryOptions
    let logger: Logger
    let progressInterval: Duration

    public init(client: EtcdClient, layout: EtcdKeyLayout, options: RegistryOptions, logger: Logger, progressInterval: Duration = .seconds(2)) {
        self.client = client
        self.layout = layout
        self.options = options
        self.logger = logger
        self.progressInterval = progressInterval
    }

    /// Lists, watches and publishes until the task is cancelled. `publish` is called from one task
    /// at a time, in revision order.
    public func run(publish: @escaping @Sendable (Publication) -> Void) async {
        var state = State(logger: logger, store: RegistryStore(options: options))
        var health = EtcdHealth(logger: logger)
        while !Task.isCancelled {
            // List (again): the whole registry at one revision.
            do {
                let started = ContinuousClock.now
                if !state.synced {
                    // The first list is staged page by page into a store of its own while the
                    // next pages are fetched and decoded; it is served only once complete.
                    var store = RegistryStore(options: options)
                    // The store being replaced is empty: nothing to keep.
                    var nothingHeld = Set<RegistryObjectKey>()
                    let range = try await listDecoded { values in
                        store.stage(state.listed(values, keeping: &nothingHeld).map { .upsert($0) })
                        // Derived now, while later pages are fetched: Services come last in
                        // key order, after their slices, so each is derived about once.
                        store.deriveStaged()
                    }
                    store.stage([.synced])
                    store.commitWhole()
                    state.store = store
                    state.revision = range.revision
                    state.synced = true
                    logger.info("listed \(range.count) keys of \(layout.watchPrefix) at revision \(range.revision) in \((.now - started).briefly): \(state.store.snapshot.serviceCount) services")
                    publish(.synced(state.store.snapshot, revision: range.revision))
                } else {
                    var objects: [RegistryObject] = []
                    var keeping = Set<RegistryObjectKey>()
                    let range = try await listDecoded { objects += state.listed($0, keeping: &keeping) }
                    state.revision = range.revision
                    logger.info("listed \(layout.watchPrefix) again at revision \(range.revision) (\(range.count) keys)")
                    if let update = state.store.apply([.replaceAll(objects, keeping: keeping)]) {
                        publish(.update(update, revision: range.revision))
                    }
                }
                health.reached(revision: state.revision)
            } catch {
                health.failed(error, revision: state.synced ? state.revision : nil)
                await health.backOff()
                continue
            }
            // Watch until the history we need is gone.
            watching: while !Task.isCancelled {
                do {
                    for try await message in client.watch(prefix: layout.watchPrefix, from: state.revision + 1, progressInterval: progressInterval) {
                        health.reached(revision: state.revision)
                        switch message {
                        case .created:
                            logger.debug("watching \(layout.watchPrefix) from revision \(state.revision + 1)")
                        case .progress(let revision):
                            state.revision = max(state.revision, revision)
                        case .events(let events, _):
                            let seen = ContinuousClock.now
                            let batch = state.events(for: events, layout: layout, decoding: decode)
                            if !batch.isEmpty, var update = state.store.apply(batch) {
                                update.seen = seen
                                publish(.update(update, revision: state.revision))
                            }
                        }
                    }
                } catch let error as EtcdError where error.code == .compacted {
                    logger.warning("\(error): listing \(layout.watchPrefix) again")
                    break watching
                } catch {
                    if Task.isCancelled { return }
                    health.failed(error, revision: state.revision)
                    await health.backOff()
                }
            }
        }
    }

    /// The key ranges a list reads, in key order: one for each kind the registry reads (Services
    /// last), so nothing else kept under the prefix (Secrets, Events, ConfigMaps) is read.
    var listedPrefixes: [String] {
        EtcdKeyLayout.kinds.compactMap { layout.kindPrefix(kind: $0.kind) }.sorted()
    }

    /// One kind's keys, read page by page at the list's revision.
    private struct PagedRange {
        let prefix: String
        /// The page asked for; nil once the range is fetched whole.
        var next: Task<EtcdRange, any Error>?
        /// Keys the range holds (from its first page), and those fetched so far.
        var total = 0
        var fetched = 0
    }

    /// Every key of the kinds the registry reads, page by page at one revision (the first page's),
    /// each value decoded and handed to `take` in key order. Each kind's first page is asked for
    /// at once: etcd serves one range request on one core, a 10,000-key page in about 75 ms, and a
    /// chain of dependent pages (each starts after the last key of the one before) left cores idle.
    /// Three things overlap: the next page is fetched while this one's values are decoded (on as
    /// many tasks as there are cores), and the page before is handed over meanwhile.
    func listDecoded(_ take: ([(key: String, decoded: Decoded)]) -> Void) async throws -> (count: Int, revision: Int64) {
        let pageSize = client.configuration.pageSize
        let client = self.client
        var ranges = listedPrefixes.map { PagedRange(prefix: $0) }
        /// The page decoded last, handed over when the next one comes in.
        var pending: Task<[[(key: String, decoded: Decoded)]], Never>?
        defer {
            for range in ranges { range.next?.cancel() }
            pending?.cancel()
        }
        // A small first page: its revision is every other page's, so nothing else starts before it.
        let first = try await client.range(prefix: ranges[0].prefix, limit: min(pageSize, 1000))
        let revision = first.revision
        var count = 0
        /// Takes in a page of range `index`, asks for the range's next page, decodes this one and
        /// hands over the one before.
        func received(_ page: EtcdRange, of index: Int) async {
            if ranges[index].total == 0 { ranges[index].total = page.count }
            ranges[index].fetched += page.keyValues.count
            count += page.keyValues.count
            if page.more, let last = page.keyValues.last?.key {
                let prefix = ranges[index].prefix
                // Only the last kind's pages taper: another kind's end is followed at once by the
                // next kind's first page, fetched meanwhile.
                let remaining = index == ranges.count - 1 && ranges[index].total > 0 ? ranges[index].total - ranges[index].fetched : nil
                let limit = Self.nextPageSize(after: page.keyValues, limit: pageSize, remaining: remaining)
                ranges[index].next = Task { try await client.range(prefix: prefix, after: last, limit: limit, revision: revision) }
            } else {
                ranges[index].next = nil
            }
            let decoding = Task(priority: Self.decodingPriority) { await self.decodeInParallel(page.keyValues) }
            if let previous = pending { await previous.value.forEach(take) }
            pending = decoding
        }
        // The other kinds' first pages, all at once, sized by what a key took in the first.
        let firstLimit = Self.nextPageSize(after: first.keyValues, limit: pageSize)
        for index in ranges.indices.dropFirst() {
            let prefix = ranges[index].prefix
            ranges[index].next = Task { try await client.range(prefix: prefix, limit: firstLimit, revision: revision) }
        }
        await received(first, of: 0)
        // The kinds in key order, each page as soon as it is in: the other kinds' pages wait in
        // flight meanwhile, so a kind's first page is there when the one before ends.
        while let index = ranges.firstIndex(where: { $0.next != nil }), let next = ranges[index].next {
            await received(try await next.value, of: index)
        }
        if let last = pending {
            pending = nil
            await last.value.forEach(take)
        }
        return (count, revision)
    }

    /// Below the list's own task: a page's decoding batches (a thousand values, some 10 ms each)
    /// queue for the cores in the task's way otherwise, and the task staging the pages in order is
    /// what the list waits on. Awaiting a page's decoding raises that page's to the task's.
    static let decodingPriority = TaskPriority.low

    /// About this many bytes of keys and values a page: 10,000 small objects, but fewer large
    /// ones (a Pod with its managed fields is kilobytes), so a page stays a few megabytes in memory.
    static let pageBytes = 16 << 20

    /// The size of the next page, from the bytes a key took in this one: at most `limit`, at least
    /// 500 (etcd 3.4 walks every key left in the range for each page, so many small pages cost it
    /// more than a few large ones). When etcd said how many keys are `remaining`, the last pages
    /// taper to half of what is left: the last page is staged after every other step is done, on
    /// one core, so a small one ends the list sooner (and a page near the end costs etcd little).
    static func nextPageSize(after page: [EtcdKeyValue], limit: Int, remaining: Int? = nil) -> Int {
        guard !page.isEmpty else { return limit }
        let bytes = page.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
        let perKey = max(1, bytes / page.count)
        let size = min(limit, max(500, pageBytes / perKey))
        guard let remaining else { return size }
        return min(size, max(500, (remaining + 1) / 2))
    }

    /// The page's values decoded, in key order, batch by batch (not joined into one array: that
    /// copied every object once more).
    private func decodeInParallel(_ keyValues: [EtcdKeyValue]) async -> [[(key: String, decoded: Decoded)]] {
        // Batches of at most 1000 values whatever the page size: a batch is parsed as one
        // document, and a larger one costs more per value (its buffers are mapped afresh).
        let parts = max(1, min(max(ProcessInfo.processInfo.activeProcessorCount, (keyValues.count + 999) / 1000), keyValues.count / 256))
        let size = (keyValues.count + parts - 1) / max(parts, 1)
        return await withTaskGroup(of: (Int, [(key: String, decoded: Decoded)]).self) { group in
            for part in 0..<parts {
                let slice = Array(keyValues[min(part * size, keyValues.count)..<min((part + 1) * size, keyValues.count)])
                group.addTask(priority: Self.decodingPriority) { (part, Array(zip(slice.map(\.key), self.decode(slice)))) }
            }
            var results = [[(key: String, decoded: Decoded)]](repeating: [], count: parts)
            for await (part, decoded) in group { results[part] = decoded }
            return results
        }
    }

    /// What a stored value is, checked against the key it is stored at.
    func decode(_ keyValue: EtcdKeyValue) -> Decoded {
        decode([keyValue])[0]
    }

    /// What kube-apiserver writes before a value stored as protobuf.
    private static let protobufMagic = Array("k8s\0".utf8)

    /// What stored values are, decoded together (see `StoredObjectDecoding.decode(_:)`).
    func decode(_ keyValues: [EtcdKeyValue]) -> [Decoded] {
        var results = [Decoded](repeating: .outside, count: keyValues.count)
        var pending: [(index: Int, reference: ObjectReference)] = []
        var texts: [(source: String, json: [UInt8])] = []
        for (index, keyValue) in keyValues.enumerated() {
            guard let reference = layout.object(at: keyValue.key) else { continue }
            if keyValue.value.starts(with: Self.protobufMagic) {
                results[index] = .rejected(reference, [RegistryError(
                    code: .invalidValue,
                    reason: "the value is Kubernetes protobuf; ClusterDNS reads JSON values (kube-apiserver --storage-media-type=application/json)",
                    location: SourceLocation(file: "etcd:" + keyValue.key))])
                continue
            }
            pending.append((index, reference))
            texts.append(("etcd:" + keyValue.key, keyValue.value))
        }
        for (position, outcome) in StoredObjectDecoding.decode(texts).enumerated() {
            results[pending[position].index] = checked(outcome, reference: pending[position].reference, source: texts[position].source)
        }
        return results
    }

    private func checked(_ outcome: StoredObjectDecoding.Outcome, reference: ObjectReference, source: String) -> Decoded {
        switch outcome {
        case .rejected(let errors):
            return .rejected(reference, errors)
        case .ignored:
            return .ignored(reference)
        case .object(let object, let warnings):
            for warning in warnings { logger.warning("\(warning)") }
            // The same spelling (every valid name is lower case) needs no keys made to compare.
            guard object.reference == reference || object.key == RegistryObjectKey(reference) else {
                return .rejected(reference, [RegistryError(
                    code: .invalidValue,
                    reason: "the value is \(object.reference) but its key says \(reference)",
                    location: SourceLocation(file: source), object: object.reference)])
            }
            return .object(object)
        }
    }

    enum Decoded: Sendable {
        /// A key outside the layout (another kind, another tool's key): not ours.
        case outside
        case ignored(ObjectReference)
        case rejected(ObjectReference, [RegistryError])
        case object(RegistryObject)
    }

    /// What the source keeps between messages. No copy of the objects: what the store holds is
    /// each key's last good version, and the store says whether it holds one.
    struct State {
        let logger: Logger
        var store: RegistryStore
        var synced = false
        /// The revision everything up to which has been applied.
        var revision: Int64 = 0

        /// The objects a page of a list gives: every good value. A bad one is reported, and if the
        /// store holds a version of its key, the key goes into `keeping`: a relist keeps that last
        /// good version.
        func listed(_ values: [(key: String, decoded: Decoded)], keeping: inout Set<RegistryObjectKey>) -> [RegistryObject] {
            var objects: [RegistryObject] = []
            objects.reserveCapacity(values.count)
            for (key, decoded) in values {
                switch decoded {
                case .outside, .ignored:
                    continue
                case .rejected(let reference, let errors):
                    let held = store.holds(RegistryObjectKey(reference))
                    Self.report(errors, key: key, kept: held, logger: logger)
                    if held { keeping.insert(RegistryObjectKey(reference)) }
                case .object(let object):
                    objects.append(object)
                }
            }
            return objects
        }

        /// The registry events of one watch message. A delete, or a value DNS does not read, is a
        /// delete of the key's object whether or not the store holds it (an earlier put in the
        /// same message may have made it): deleting what is not held changes nothing.
        mutating func events(for changes: [EtcdWatchEvent], layout: EtcdKeyLayout, decoding decode: (EtcdKeyValue) -> Decoded) -> [RegistryEvent] {
            var events: [RegistryEvent] = []
            /// Keys this message put (true) or deleted (false), which the store does not show yet.
            var changed: [RegistryObjectKey: Bool] = [:]
            for change in changes {
                switch change {
                case .put(let keyValue):
                    revision = max(revision, keyValue.modRevision)
                    switch decode(keyValue) {
                    case .outside:
                        continue
                    case .ignored(let reference):
                        changed[RegistryObjectKey(reference)] = false
                        events.append(.delete(RegistryObjectKey(reference)))
                    case .rejected(let reference, let errors):
                        let key = RegistryObjectKey(reference)
                        Self.report(errors, key: keyValue.key, kept: changed[key] ?? store.holds(key), logger: logger)
                    case .object(let object):
                        changed[object.key] = true
                        events.append(.upsert(object))
                    }
                case .delete(let key, let modRevision):
                    revision = max(revision, modRevision)
                    guard let reference = layout.object(at: key) else { continue }
                    changed[RegistryObjectKey(reference)] = false
                    events.append(.delete(RegistryObjectKey(reference)))
                }
            }
            return events
        }

        static func report(_ errors: [RegistryError], key: String, kept: Bool, logger: Logger) {
            logger.error("\(key): bad value skipped, \(kept ? "its last good version is kept" : "not served"): \(errors.map(\.description).joined(separator: "; "))")
        }
    }
}

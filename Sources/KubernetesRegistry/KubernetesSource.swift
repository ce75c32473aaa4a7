import Foundation
import Logging
import ServiceRegistry
import Synchronization

/// The cluster's API server as a live source, the informer way, one stream per resource: list it
/// page by page (`limit`/`continue`, the version of the first page), then watch from that version
/// with bookmarks. Every resource's events go through one task that applies them to the store, so
/// the registry sees one ordered stream of changes.
///
/// - Nothing is served until every resource has been listed once: the first registry is applied
///   whole (until then the server answers SERVFAIL, never NXDOMAIN).
/// - A watch that ends (the server's timeout, a restart, a dropped connection) is opened again
///   from the last version seen, with backoff while the server cannot be reached; the last good
///   registry keeps answering meanwhile.
/// - A watch or list answering 410 (the version is too old) lists that resource again and swaps the
///   result in: what disappeared is deleted, nothing is lost or stale.
/// - An object that is not valid is skipped with an error naming it; its last good version stays.
public final class KubernetesSource: Sendable {
    public enum Publication: Sendable {
        /// Every resource listed once: serve this registry.
        case synced(RegistrySnapshot)
        /// A change after that.
        case update(RegistryUpdate)
    }

    public let client: KubernetesClient
    public let resources: [KubernetesResource]
    public let options: RegistryOptions
    let logger: Logger
    let pageSize: Int

    public init(client: KubernetesClient, resources: [KubernetesResource], options: RegistryOptions, logger: Logger, pageSize: Int = 500) {
        self.client = client
        self.resources = resources
        self.options = options
        self.logger = logger
        self.pageSize = pageSize
    }

    /// What the resource tasks tell the applying task.
    enum Message: Sendable {
        /// A complete list of one resource (and the items it had to leave out for errors).
        case listed(KubernetesResource, [RegistryObject], rejected: [ObjectReference], resourceVersion: String, took: Duration)
        case upsert(RegistryObject, seen: ContinuousClock.Instant)
        case rejected(ObjectReference, [RegistryError])
        case delete(RegistryObjectKey, seen: ContinuousClock.Instant)
    }

    /// The resource tasks' messages, taken by the applying task all at once: what queued while it
    /// applied the last ones is applied together, as one update (DESIGN: changes that arrive
    /// together are published as one version). Nothing waits for more: a quiet stream's change is
    /// applied as soon as it comes, and a burst (a rollout, a relist) costs a few updates, not one
    /// per object.
    final class Inbox: Sendable {
        private let queued = Mutex<[Message]>([])
        /// One wake-up stands for every message posted before it is taken.
        let wakeUps: AsyncStream<Void>
        private let wake: AsyncStream<Void>.Continuation

        init() {
            (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        }

        func post(_ message: Message) {
            queued.withLock { $0.append(message) }
            wake.yield()
        }

        /// Every message posted and not taken yet, in the order posted.
        func takeAll() -> [Message] {
            queued.withLock { queued in
                defer { queued = [] }
                return queued
            }
        }

        func finish() { wake.finish() }
    }

    /// Lists, watches and publishes until the task is cancelled; `publish` is called from one task.
    public func run(publish: @escaping @Sendable (Publication) -> Void) async {
        let inbox = Inbox()
        await withTaskGroup(of: Void.self) { group in
            for resource in resources {
                group.addTask { await self.follow(resource, into: inbox) }
            }
            group.addTask {
                var state = State(resources: self.resources, store: RegistryStore(options: self.options), logger: self.logger)
                for await _ in inbox.wakeUps {
                    for publication in state.apply(inbox.takeAll()) { publish(publication) }
                }
            }
            // The resource tasks end only when cancelled; then the applying task must end too.
            await withTaskCancellationHandler {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            } onCancel: {
                inbox.finish()
            }
            group.cancelAll()
        }
    }

    /// One resource: list, then watch from the list's version until it is too old, again and again.
    private func follow(_ resource: KubernetesResource, into messages: Inbox) async {
        var backoff = Backoff()
        while !Task.isCancelled {
            var version: String
            do {
                let started = ContinuousClock.now
                let listed = try await list(resource)
                version = listed.resourceVersion
                messages.post(.listed(resource, listed.objects, rejected: listed.rejected, resourceVersion: version, took: .now - started))
                backoff.reset()
            } catch {
                if Task.isCancelled { return }
                logger.warning("\(error); listing \(resource) again in \(backoff.delay.briefly)")
                await backoff.wait()
                continue
            }
            watching: while !Task.isCancelled {
                do {
                    for try await event in client.watch(resource, from: version) {
                        backoff.reset()
                        if !event.resourceVersion.isEmpty { version = event.resourceVersion }
                        switch event {
                        case .bookmark:
                            continue
                        case .delete(let reference, _):
                            messages.post(.delete(RegistryObjectKey(reference), seen: .now))
                        case .upsert(let json, let reference, _):
                            let seen = ContinuousClock.now
                            switch StoredObjectDecoding.decode(json: json, source: "kubernetes:\(resource.path)/\(Self.path(of: reference))") {
                            case .object(let object, let warnings):
                                for warning in warnings { logger.warning("\(warning)") }
                                messages.post(.upsert(object, seen: seen))
                            case .ignored:
                                messages.post(.delete(RegistryObjectKey(reference), seen: seen))
                            case .rejected(let errors):
                                messages.post(.rejected(reference, errors))
                            }
                        }
                    }
                    // The server ended the watch at its timeout: watch again from where it stopped.
                } catch let error as KubernetesError where error.code == .expired {
                    logger.info("\(error): listing \(resource) again")
                    break watching
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("\(error); watching \(resource) again from version \(version) in \(backoff.delay.briefly)")
                    await backoff.wait()
                }
            }
        }
    }

    /// Every page of `resource`, decoded, at the first page's version.
    private func list(_ resource: KubernetesResource) async throws -> (objects: [RegistryObject], rejected: [ObjectReference], resourceVersion: String) {
        var objects: [RegistryObject] = []
        var rejected: [ObjectReference] = []
        var version: String?
        var continueToken: String?
        repeat {
            let text = try await client.list(resource, limit: pageSize, continueToken: continueToken)
            switch APIListDecoding.decode(json: text, source: "kubernetes:\(resource.path)") {
            case .failure(let error):
                throw KubernetesError(.malformedResponse, "listing \(resource): \(error)")
            case .success(let page):
                for error in page.errors {
                    if error.isWarning { logger.warning("\(error)") } else { logger.error("\(error)") }
                }
                objects += page.objects
                rejected += page.rejected
                if version == nil { version = page.resourceVersion }
                continueToken = page.continueToken
            }
        } while !(continueToken ?? "").isEmpty
        guard let version, !version.isEmpty else { throw KubernetesError(.malformedResponse, "listing \(resource): no resourceVersion in the list") }
        return (objects, rejected, version)
    }

    static func path(of reference: ObjectReference) -> String {
        reference.namespace.isEmpty ? reference.name : "\(reference.namespace)/\(reference.name)"
    }

    /// What the applying task keeps.
    struct State {
        let resources: [KubernetesResource]
        var store: RegistryStore
        let logger: Logger
        /// Resources listed at least once.
        var listed: Set<String> = []
        /// The keys each kind holds now, for a relist to delete what it no longer lists.
        var held: [String: Set<RegistryObjectKey>] = [:]
        /// Events staged before every resource was listed.
        var early: [RegistryEvent] = []
        var synced = false

        /// Applies `messages` in order: every change among them as one update, after the registry
        /// that the last first listing completes (which is published first, whole).
        mutating func apply(_ messages: [Message]) -> [Publication] {
            var publications: [Publication] = []
            var events: [RegistryEvent] = []
            // When the earliest of the changes was seen: an update is as late as its oldest change.
            var seen: ContinuousClock.Instant?
            for message in messages {
                let changes = self.events(of: message, seen: &seen)
                guard synced else {
                    early += changes
                    guard listed.count == resources.count else { continue }
                    synced = true
                    store.stage(early + [.synced])
                    early = []
                    _ = store.commit()
                    logger.info("every resource listed: \(store.snapshot.serviceCount) services in \(store.snapshot.namespaceCount) namespaces")
                    publications.append(.synced(store.snapshot))
                    seen = nil  // what was seen before is in the synced registry
                    continue
                }
                events += changes
            }
            if !events.isEmpty, var update = store.apply(events) {
                update.seen = seen ?? .now
                publications.append(.update(update))
            }
            return publications
        }

        /// The registry events one message stands for (none for a rejected object, or for the
        /// delete of an object never held), keeping count of what each kind holds.
        private mutating func events(of message: Message, seen: inout ContinuousClock.Instant?) -> [RegistryEvent] {
            switch message {
            case .listed(let resource, let objects, let rejected, let version, let took):
                var keys = Set(objects.map(\.key))
                // A bad item keeps its last good version: it is not deleted.
                for reference in rejected where held[resource.kind, default: []].contains(RegistryObjectKey(reference)) {
                    keys.insert(RegistryObjectKey(reference))
                }
                var events: [RegistryEvent] = held[resource.kind, default: []].filter { !keys.contains($0) }.map { .delete($0) }
                events += objects.map { .upsert($0) }
                held[resource.kind] = keys
                let first = listed.insert(resource.kind).inserted
                logger.info("\(first ? "listed" : "listed again") \(resource): \(objects.count) objects at version \(version) in \(took.briefly)")
                return events
            case .upsert(let object, let when):
                held[object.key.kind, default: []].insert(object.key)
                seen = min(seen ?? when, when)
                return [.upsert(object)]
            case .delete(let key, let when):
                guard held[key.kind]?.remove(key) != nil else { return [] }
                seen = min(seen ?? when, when)
                return [.delete(key)]
            case .rejected(let reference, let errors):
                let kept = held[reference.kind]?.contains(RegistryObjectKey(reference)) ?? false
                logger.error("\(reference): bad version skipped, \(kept ? "its last good version is kept" : "not served"): \(errors.map(\.description).joined(separator: "; "))")
                return []
            }
        }
    }
}

/// Waits that double from 0.25 s up to 10 s between failed attempts, and start over on success.
struct Backoff {
    private(set) var delay: Duration = .milliseconds(250)

    mutating func reset() { delay = .milliseconds(250) }

    mutating func wait() async {
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .seconds(10))
    }
}

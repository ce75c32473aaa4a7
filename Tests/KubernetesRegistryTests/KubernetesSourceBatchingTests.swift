@testable import KubernetesRegistry
import Logging
import ServiceRegistry
import Testing

/// The Kubernetes source applies what queued while it applied the last changes as one update:
/// the same registry as applying them one by one, one publication instead of one per object.
@Suite struct KubernetesSourceBatchingTests {
    typealias Message = KubernetesSource.Message

    static func service(_ name: String, ip: String) -> RegistryObject {
        let json = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"shop"},"spec":{"clusterIP":"\#(ip)","ports":[{"port":80}]}}"#
        guard case .object(let object, _) = StoredObjectDecoding.decode(json: json, source: "kubernetes:/api/v1/services") else {
            fatalError("the test's Service does not decode")
        }
        return object
    }

    static func state() -> KubernetesSource.State {
        KubernetesSource.State(resources: [.services], store: RegistryStore(), logger: Logger(label: "test"))
    }

    static func served(_ snapshot: RegistrySnapshot) -> [String] {
        snapshot.services.map { "\($0.name) \($0.clusterIPs.map(\.description).joined(separator: ","))" }.sorted()
    }

    /// Upserts, a Service changed twice, deletes (one of an object never held) and a rejected
    /// version, in one batch.
    static let changes: [Message] = {
        let start = ContinuousClock.now
        var changes: [Message] = (0..<40).map { .upsert(service("s\($0)", ip: "10.96.1.\($0 + 1)"), seen: start + .milliseconds($0)) }
        changes.append(.upsert(service("s3", ip: "10.96.2.3"), seen: start))
        changes.append(.delete(RegistryObjectKey(kind: "Service", namespace: "shop", name: "s7"), seen: start))
        changes.append(.delete(RegistryObjectKey(kind: "Service", namespace: "shop", name: "never-held"), seen: start))
        changes.append(.rejected(ObjectReference(kind: "Service", namespace: "shop", name: "s9"), []))
        return changes
    }()

    @Test func changesTakenTogetherArePublishedAsOneUpdateThatServesWhatOneByOneWould() throws {
        let listed = Message.listed(.services, [Self.service("web", ip: "10.96.0.20")], rejected: [], resourceVersion: "1", took: .zero)
        var together = Self.state()
        var oneByOne = Self.state()
        guard case .synced = try #require(together.apply([listed]).first) else { Issue.record("the first listing did not sync"); return }
        _ = oneByOne.apply([listed])

        let publications = together.apply(Self.changes)
        #expect(publications.count == 1)
        guard case .update(let update) = try #require(publications.first) else { Issue.record("no update"); return }
        var last: RegistrySnapshot?
        for change in Self.changes {
            for case .update(let single) in oneByOne.apply([change]) { last = single.snapshot }
        }
        let expected = try #require(last)
        #expect(Self.served(update.snapshot) == Self.served(expected))
        #expect(Self.served(update.snapshot).contains("s3 10.96.2.3"))
        #expect(!Self.served(update.snapshot).contains { $0.hasPrefix("s7 ") })
    }

    /// A batch that holds the last first listing and changes after it: the listed registry is
    /// published whole first, then the changes as one update.
    @Test func aBatchThatCompletesTheFirstListingPublishesItThenTheChanges() throws {
        var state = Self.state()
        let listed = Message.listed(.services, [Self.service("web", ip: "10.96.0.20")], rejected: [], resourceVersion: "1", took: .zero)
        let publications = state.apply([listed] + Self.changes)
        #expect(publications.count == 2)
        guard case .synced(let synced) = try #require(publications.first) else { Issue.record("not synced first"); return }
        #expect(Self.served(synced) == ["web 10.96.0.20"])
        guard case .update(let update) = try #require(publications.last) else { Issue.record("no update after the sync"); return }
        #expect(update.snapshot.serviceCount == 1 + 40 - 1)
    }

    /// Messages posted before the applier takes them are taken at once, in order, behind one
    /// wake-up however many were posted.
    @Test func messagesPostedMeanwhileAreTakenTogetherInOrder() async {
        let inbox = KubernetesSource.Inbox()
        for change in Self.changes { inbox.post(change) }
        var wakeUps = inbox.wakeUps.makeAsyncIterator()
        #expect(await wakeUps.next() != nil)
        let taken = inbox.takeAll()
        #expect(taken.count == Self.changes.count)
        if case .upsert(let object, _) = taken.first { #expect(object.reference.name == "s0") } else { Issue.record("out of order") }
        #expect(inbox.takeAll().isEmpty)
        inbox.finish()
        #expect(await wakeUps.next() == nil, "a wake-up was left for messages already taken")
    }
}

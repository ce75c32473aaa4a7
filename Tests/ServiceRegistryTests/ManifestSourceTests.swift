import Foundation
import Logging
@testable import ServiceRegistry
import Synchronization
import Testing

/// Live reload: a good edit publishes a new snapshot with a greater serial; a broken, half-written
/// or emptied registry keeps the last good one and logs why.
@Suite struct ManifestSourceTests {
    static func service(_ name: String, ip: String) -> String {
        "apiVersion: v1\nkind: Service\nmetadata: {name: \(name), namespace: shop}\nspec: {clusterIP: \(ip), ports: [{port: 80}]}\n"
    }

    let directory: URL
    let recorder = LogRecorder()
    let source: ManifestSource

    init() throws {
        directory = try TestPaths.temporaryRegistry(["shop.yaml": Self.service("web", ip: "10.96.0.10")])
        let recorder = self.recorder
        source = ManifestSource(paths: [directory.path], options: .init(), logger: Logger(label: "test") { _ in recorder })
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: false, encoding: .utf8)
    }

    @Test func theInitialLoadUsesAWallClockSerial() {
        let result = source.load()
        #expect(result.isValid)
        #expect(result.snapshot.serial >= UInt32(Date().timeIntervalSince1970) - 5)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func anUnchangedRegistryPublishesNothing() throws {
        _ = source.load()
        #expect(source.poll() == nil)
        // Rewriting the same content bumps the mtime but changes nothing.
        try write("shop.yaml", Self.service("web", ip: "10.96.0.10"))
        #expect(source.poll() == nil)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func aGoodEditPublishesANewSnapshotWithAGreaterSerial() throws {
        let first = source.load().snapshot
        try write("more.yaml", Self.service("api", ip: "10.96.0.11"))
        let second = try #require(source.poll())
        #expect(second.serial > first.serial)
        #expect(second.services.map(\.name) == ["api", "web"])
        try write("more.yaml", Self.service("api", ip: "10.96.0.12"))
        let third = try #require(source.poll())
        #expect(third.serial > second.serial)
        #expect(third.service(namespace: "shop", name: "api")?.clusterIPs == [IPAddress("10.96.0.12")!])
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func aBrokenEditKeepsTheLastGoodSnapshotUntilItIsFixed() throws {
        let first = source.load().snapshot
        // Half-written: the file ends in the middle of the spec.
        try write("shop.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.96.0.")
        #expect(source.poll() == nil)
        #expect(recorder.messages.contains { $0.level == .error && $0.message.contains("shop.yaml") })
        #expect(recorder.messages.contains { $0.level == .error && $0.message.contains("last good registry") })
        // The same broken content again is not retried.
        let logged = recorder.messages.count
        try write("shop.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.96.0.")
        #expect(source.poll() == nil)
        #expect(recorder.messages.count == logged)

        try write("shop.yaml", Self.service("web", ip: "10.96.0.20"))
        let fixed = try #require(source.poll())
        #expect(fixed.serial > first.serial)
        #expect(fixed.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.20")!])
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func aSuddenlyEmptyRegistryKeepsTheLastGoodSnapshot() throws {
        _ = source.load()
        try write("shop.yaml", "")
        #expect(source.poll() == nil)
        #expect(recorder.messages.contains { $0.level == .error && $0.message.contains("suddenly") })
        try FileManager.default.removeItem(at: directory.appendingPathComponent("shop.yaml"))
        #expect(source.poll() == nil)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func watchCallsBackOnChangeAndReturnsWhenCancelled() async throws {
        let initial = source.load().snapshot
        let updates = Mutex<[RegistrySnapshot]>([])
        let source = self.source
        let task = Task {
            await source.watch(interval: .milliseconds(20)) { snapshot in
                updates.withLock { $0.append(snapshot) }
            }
        }
        try write("more.yaml", Self.service("api", ip: "10.96.0.11"))
        let deadline = ContinuousClock.now + .seconds(30)
        while updates.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        task.cancel()
        await task.value
        let published = updates.withLock { $0 }
        #expect(published.count == 1)
        #expect(published.first.map { $0.serial > initial.serial } == true)
        #expect(published.first?.services.count == 2)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func filesAddedInNewAndExistingSubdirectoriesArePickedUp() throws {
        _ = source.load()
        #expect(source.poll() == nil)  // the directory list is now remembered
        let nested = directory.appendingPathComponent("team-a")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        try Self.service("api", ip: "10.96.0.11").write(to: nested.appendingPathComponent("api.yaml"), atomically: false, encoding: .utf8)
        #expect(source.poll()?.services.map(\.name) == ["api", "web"])
        #expect(source.poll() == nil)
        try Self.service("cart", ip: "10.96.0.12").write(to: nested.appendingPathComponent("cart.yaml"), atomically: false, encoding: .utf8)
        #expect(source.poll()?.services.map(\.name) == ["api", "cart", "web"])
        try FileManager.default.removeItem(at: nested.appendingPathComponent("api.yaml"))
        #expect(source.poll()?.services.map(\.name) == ["cart", "web"])
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func serialsGrowPastTheClock() {
        let now = UInt32(Date().timeIntervalSince1970)
        #expect(ManifestSource.nextSerial(after: 0) >= now)
        #expect(ManifestSource.nextSerial(after: now + 100) == now + 101)
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
@testable import ServiceRegistry
import Synchronization
import Testing

/// Live reload: a good edit publishes a new snapshot with a greater serial; a broken, half-written
/// or emptied registry keeps the last good one and logs why.
@Suite final class ManifestSourceTests {
    static func service(_ name: String, ip: String) -> String {
        "apiVersion: v1\nkind: Service\nmetadata: {name: \(name), namespace: shop}\nspec: {clusterIP: \(ip), ports: [{port: 80}]}\n"
    }

    let directory: URL
    let recorder = LogRecorder()
    let source: ManifestSource

    init() throws {
        directory = try TestPaths.temporaryRegistry(["shop.yaml": Self.service("web", ip: "10.96.0.10")])
        let recorder = self.recorder
        // The stamp rule alone: these tests' checks come right after their writes, and a child
        // process another test spawns meanwhile can hold a write's close event back (inotify's
        // part has its own test below).
        source = ManifestSource(paths: [directory.path], options: .init(), logger: Logger(label: "test") { _ in recorder }, watchingWrites: false)
    }

    /// Each test has a registry of its own, removed however the test ends.
    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: false, encoding: .utf8)
    }

    @Test func theInitialLoadUsesAWallClockSerial() {
        let result = source.load()
        #expect(result.isValid)
        #expect(result.snapshot.serial >= UInt32(Date().timeIntervalSince1970) - 5)
    }

    @Test func anUnchangedRegistryPublishesNothing() throws {
        _ = source.load()
        #expect(pollSettled() == nil)
        // Rewriting the same content bumps the mtime but changes nothing.
        try write("shop.yaml", Self.service("web", ip: "10.96.0.10"))
        #expect(pollSettled() == nil)
    }

    @Test func aGoodEditPublishesANewSnapshotWithAGreaterSerial() throws {
        let first = source.load().snapshot
        try write("more.yaml", Self.service("api", ip: "10.96.0.11"))
        let second = try #require(pollSettled())
        #expect(second.serial > first.serial)
        #expect(second.services.map(\.name) == ["api", "web"])
        try write("more.yaml", Self.service("api", ip: "10.96.0.12"))
        let third = try #require(pollSettled())
        #expect(third.serial > second.serial)
        #expect(third.service(namespace: "shop", name: "api")?.clusterIPs == [IPAddress("10.96.0.12")!])
    }

    @Test func aBrokenEditKeepsTheLastGoodSnapshotUntilItIsFixed() throws {
        let first = source.load().snapshot
        // Half-written: the file ends in the middle of the spec.
        try write("shop.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.96.0.")
        #expect(pollSettled() == nil)
        #expect(recorder.messages.contains { $0.level == .error && $0.message.contains("shop.yaml") })
        #expect(recorder.messages.contains { $0.level == .error && $0.message.contains("last good registry") })
        // The same broken content again is not retried.
        let logged = recorder.messages.count
        try write("shop.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.96.0.")
        #expect(pollSettled() == nil)
        #expect(recorder.messages.count == logged)

        try write("shop.yaml", Self.service("web", ip: "10.96.0.20"))
        let fixed = try #require(pollSettled())
        #expect(fixed.serial > first.serial)
        #expect(fixed.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.20")!])
    }

    @Test func aSuddenlyEmptyRegistryKeepsTheLastGoodSnapshot() throws {
        _ = source.load()
        try write("shop.yaml", "")
        #expect(pollSettled() == nil)
        #expect(recorder.messages.contains { $0.level == .error && $0.message.contains("suddenly") })
        try FileManager.default.removeItem(at: directory.appendingPathComponent("shop.yaml"))
        #expect(pollSettled() == nil)
    }

    @Test func watchCallsBackOnChangeAndEndsWhenStopped() async throws {
        let initial = source.load().snapshot
        let updates = Mutex<[RegistrySnapshot]>([])
        let source = self.source
        // Subscribed on return: a change made right after is published, however busy the machine.
        let watch = source.startWatching(interval: .milliseconds(20)) { update in
            updates.withLock { $0.append(update.snapshot) }
        }
        try write("more.yaml", Self.service("api", ip: "10.96.0.11"))
        let deadline = ContinuousClock.now + .seconds(30)
        while updates.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            usleep(20_000)
        }
        watch.stop()
        for await _ in watch.finished {}
        let published = updates.withLock { $0 }
        #expect(published.count == 1)
        #expect(published.first.map { $0.serial > initial.serial } == true)
        #expect(published.first?.services.count == 2)
    }

    @Test func filesAddedInNewAndExistingSubdirectoriesArePickedUp() throws {
        _ = source.load()
        #expect(pollSettled() == nil)  // the directory list is now remembered
        let nested = directory.appendingPathComponent("team-a")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        try Self.service("api", ip: "10.96.0.11").write(to: nested.appendingPathComponent("api.yaml"), atomically: false, encoding: .utf8)
        #expect(pollSettled()?.services.map(\.name) == ["api", "web"])
        #expect(pollSettled() == nil)
        try Self.service("cart", ip: "10.96.0.12").write(to: nested.appendingPathComponent("cart.yaml"), atomically: false, encoding: .utf8)
        #expect(pollSettled()?.services.map(\.name) == ["api", "cart", "web"])
        try FileManager.default.removeItem(at: nested.appendingPathComponent("api.yaml"))
        #expect(pollSettled()?.services.map(\.name) == ["cart", "web"])
    }

    @Test func aServiceMovedDownItsFileIsNamedAtItsNewLineInALaterClash() throws {
        try write("shop.yaml", Self.service("cart", ip: "10.96.0.9") + "---\n" + Self.service("web", ip: "10.96.0.10"))
        _ = source.load()
        // Two lines more in cart's document: web's document is unchanged, only moved from line 6 to 8.
        try write("shop.yaml", Self.service("cart", ip: "10.96.0.9") + "# owned by the shop team\n# edited by hand\n---\n" + Self.service("web", ip: "10.96.0.10"))
        #expect(pollSettled() == nil)
        try write("more.yaml", Self.service("api", ip: "10.96.0.10"))
        _ = pollSettled()
        let clash = recorder.messages.first { $0.level == .error && $0.message.contains("two Services cannot share a ClusterIP") }
        #expect(clash?.message.contains("shop.yaml:8") == true, "\(clash?.message ?? "no clash logged")")
    }

    /// Polls until the change has held still for one poll interval, as the watcher does: the poll
    /// that first sees a change only notes it, the next one reads the file.
    func pollSettled() -> RegistrySnapshot? {
        source.poll() ?? source.poll()
    }

    static let apiServer = """
        apiVersion: v1
        kind: Service
        metadata: {name: kubernetes, namespace: default}
        spec: {clusterIP: 10.96.0.1, ports: [{name: https, port: 443}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: kubernetes, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}
        addressType: IPv4
        endpoints: [{addresses: [192.168.0.10], conditions: {ready: true}}]
        ports: [{name: https, port: 6443}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: apiserver, namespace: default}
        status: {podIP: 192.168.0.10}

        """

    @Test func aFileRewrittenInTwoStepsNeverPublishesTheFirstHalf() throws {
        try write("shop.yaml", Self.service("web", ip: "10.96.0.10") + "---\n" + Self.service("api", ip: "10.96.0.11"))
        _ = source.load()
        var published: [RegistrySnapshot] = []
        // Rewritten in place: the first half is a valid registry on its own, which is the danger.
        try write("shop.yaml", Self.service("web", ip: "10.96.0.20"))
        published += [source.poll()].compactMap { $0 }
        let file = try FileHandle(forWritingTo: directory.appendingPathComponent("shop.yaml"))
        try file.seekToEnd()
        try file.write(contentsOf: Data(("---\n" + Self.service("api", ip: "10.96.0.21")).utf8))
        try file.close()
        published += [source.poll(), source.poll(), source.poll()].compactMap { $0 }

        #expect(published.count == 1)
        #expect(published.allSatisfy { $0.services.count == 2 }, "the half-written file was published")
        let last = try #require(published.last)
        #expect(last.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.20")!])
        #expect(last.service(namespace: "shop", name: "api")?.clusterIPs == [IPAddress("10.96.0.21")!])
    }

    /// The content hash a poll takes (document by document, as the file is cut) is the one the
    /// load took: a file written again with the same bytes is not read again; a changed one is.
    @Test func aFileRewrittenWithTheSameBytesIsNotReadAgain() throws {
        try write("more.yaml", Self.service("api", ip: "10.96.0.11") + "---\n" + Self.service("db", ip: "10.96.0.12"))
        _ = source.load()
        try write("more.yaml", Self.service("api", ip: "10.96.0.11") + "---\n" + Self.service("db", ip: "10.96.0.12"))
        try write("shop.yaml", Self.service("web", ip: "10.96.0.10"))
        #expect(source.poll() == nil && source.poll() == nil)
        #expect(source.rereadCount == 0)
        try write("more.yaml", Self.service("api", ip: "10.96.0.11") + "---\n" + Self.service("db", ip: "10.96.0.13"))
        let published = [source.poll(), source.poll()].compactMap { $0 }
        #expect(source.rereadCount == 1)
        #expect(published.last?.service(namespace: "shop", name: "db")?.clusterIPs == [IPAddress("10.96.0.13")!])
    }

    @Test func aFileTruncatedToZeroBytesLogsAWarningWithWhatWasRemoved() throws {
        try write("default.yaml", Self.apiServer)
        _ = source.load()
        let file = try FileHandle(forWritingTo: directory.appendingPathComponent("default.yaml"))
        try file.truncate(atOffset: 0)
        try file.close()
        let published = [source.poll(), source.poll(), source.poll()].compactMap { $0 }

        #expect(published.last?.services.map(\.name) == ["web"])
        let warnings = recorder.messages.filter { $0.level == .warning }
        #expect(warnings.contains { $0.message.contains("removed 1 service, 1 endpoint, 1 pod, 1 namespace") }, "\(recorder.messages)")
        #expect(warnings.contains { $0.message.contains("default.yaml") }, "\(recorder.messages)")
    }

    /// The issue: chmod 000, an edit, chmod 644, and the edit is never loaded, because the edit made
    /// while the file was unreadable left its size and mtime as the last poll saw them. Tests run as
    /// root, and root reads a 000 file, so the unreadable moment cannot fail a read here; instead the
    /// test makes the edit itself invisible the way it was (same size, mtime put back exactly with
    /// utimensat), which leaves the mode changes as the only trace. They must be enough for the file
    /// to be read again.
    @Test(.enabled(if: getuid() == 0, "editing a mode-000 file needs root, as in the issue"))
    func anEditMadeWhileUnreadableIsLoadedOnceTheFileIsReadableAgain() throws {
        _ = source.load()
        let path = directory.appendingPathComponent("shop.yaml").path
        var original = stat()
        try #require(stat(path, &original) == 0)
        var published: [RegistrySnapshot] = []

        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: path)
        published += [source.poll(), source.poll()].compactMap { $0 }
        // Same size (10.96.0.10 -> 10.96.0.20), written in place, then the mtime put back.
        try write("shop.yaml", Self.service("web", ip: "10.96.0.20"))
        var times = [original.st_atim, original.st_mtim]
        try #require(utimensat(AT_FDCWD, path, &times, 0) == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        published += [source.poll(), source.poll()].compactMap { $0 }

        #expect(published.last?.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.20")!])
    }

    /// An edit in place that keeps the size and puts the mtime back shows in no stamp; `reload()`
    /// reads it anyway and publishes through `watch`'s callback. A reload that finds nothing new
    /// publishes nothing and says so.
    @Test func reloadReadsEveryFileAndPublishesThroughTheWatchCallback() async throws {
        let initial = source.load().snapshot
        let updates = Mutex<[RegistrySnapshot]>([])
        let source = self.source
        let watch = source.startWatching(interval: .seconds(3600)) { update in updates.withLock { $0.append(update.snapshot) } }
        source.reload()
        let deadline = ContinuousClock.now + .seconds(30)
        while !recorder.messages.contains(where: { $0.message.contains("unchanged") }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(updates.withLock { $0.isEmpty })

        let path = directory.appendingPathComponent("shop.yaml").path
        var original = stat()
        try #require(stat(path, &original) == 0)
        try write("shop.yaml", Self.service("web", ip: "10.96.0.20"))
        var times = [original.st_atim, original.st_mtim]
        try #require(utimensat(AT_FDCWD, path, &times, 0) == 0)
        #expect(source.poll() == nil && source.poll() == nil)
        source.reload()
        while updates.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        watch.stop()

        let published = updates.withLock { $0 }
        #expect(published.count == 1)
        #expect(published.first.map { $0.serial > initial.serial } == true)
        #expect(published.first?.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.20")!])
    }

    @Test func serialsGrowPastTheClock() {
        let now = UInt32(Date().timeIntervalSince1970)
        #expect(RegistryStore.nextSerial(after: 0) >= now)
        #expect(RegistryStore.nextSerial(after: now + 100) == now + 101)
    }
}

extension ManifestSourceTests {
    /// A writer that pauses longer than a poll looked finished to the stamps alone (same size and
    /// mtime twice), so the part written so far was read. A file modified and not yet closed
    /// (inotify, on Linux) is not read until its writer closes it.
    @Test(.enabled(if: FileWriteWatcher() != nil, "needs inotify"))
    func aFileStillOpenForWritingIsNotReadWhileItsWriterPauses() throws {
        try write("shop.yaml", Self.service("web", ip: "10.96.0.10") + "---\n" + Self.service("api", ip: "10.96.0.11"))
        let source = ManifestSource(paths: [directory.path], options: .init(), logger: Logger(label: "test"))
        _ = source.load()
        let file = try FileHandle(forWritingTo: directory.appendingPathComponent("shop.yaml"))
        try file.truncate(atOffset: 0)
        try file.write(contentsOf: Data(Self.service("web", ip: "10.96.0.20").utf8))  // a valid registry on its own
        var published: [RegistrySnapshot] = []
        for _ in 0..<3 {  // the writer pauses for three polls
            published += [source.poll()].compactMap { $0 }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(published.isEmpty, "the part written so far was published")
        try file.write(contentsOf: Data(("---\n" + Self.service("api", ip: "10.96.0.21")).utf8))
        try file.close()
        // Closed: read once its stamp has held still. (Should a child process spawned meanwhile by
        // another test have inherited the descriptor, the close event waits for that child; then
        // the hint expires after `FileWriteWatcher.patience`.)
        let deadline = ContinuousClock.now + FileWriteWatcher.patience + .seconds(2)
        while published.isEmpty, ContinuousClock.now < deadline {
            published += [source.poll()].compactMap { $0 }
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(published.count == 1)
        let last = try #require(published.last)
        #expect(last.services.count == 2)
        #expect(last.service(namespace: "shop", name: "api")?.clusterIPs == [IPAddress("10.96.0.21")!])
    }
}

extension ManifestSourceTests {
    /// The file events name the files that changed: a rename into place stats that file, not every
    /// file of the registry, as long as every file was stat'ed recently enough; after that, a poll
    /// stats them all again.
    @Test(.enabled(if: FileWriteWatcher() != nil, "needs inotify"))
    func aRenameIntoPlaceStatsOnlyTheRenamedFileUntilEveryFileIsDueAgain() throws {
        for index in 0..<20 { try write("team-\(index).yaml", Self.service("svc-\(index)", ip: "10.96.1.\(index + 1)")) }
        func source(restatingEveryFileAfter interval: Duration) -> ManifestSource {
            ManifestSource(
                paths: [directory.path], options: .init(), logger: Logger(label: "test"), watchingWrites: true,
                streamingJSONAbove: StreamedJSONFile.streamedAbove, everyFileStampedWithin: interval)
        }
        func renameIntoPlace(_ source: ManifestSource, octet: Int) throws -> RegistrySnapshot? {
            let temporary = directory.appendingPathComponent(".team-3.yaml.tmp")
            try Self.service("svc-3", ip: "10.96.2.\(octet)").write(to: temporary, atomically: false, encoding: .utf8)
            #expect(rename(temporary.path, directory.appendingPathComponent("team-3.yaml").path) == 0)
            for _ in 0..<100 {
                if let snapshot = source.poll() { return snapshot }
                Thread.sleep(forTimeInterval: 0.01)
            }
            return nil
        }
        let files = 21  // shop.yaml of the fixture, and the twenty above
        let trusting = source(restatingEveryFileAfter: .seconds(3600))
        _ = trusting.load()
        // The first poll stats every file: the directory is watched only since the load.
        _ = try renameIntoPlace(trusting, octet: 1)
        let before = trusting.statCount
        for octet in 2..<7 {
            let snapshot = try renameIntoPlace(trusting, octet: octet)
            #expect(snapshot?.service(namespace: "shop", name: "svc-3")?.clusterIPs == [IPAddress("10.96.2.\(octet)")!])
        }
        #expect(trusting.statCount - before == 5, "each rename stats the renamed file alone")
        // A mode change is an event too (the stamp holds the mode: a chmod back after an edit made
        // while the file was unreadable must be seen).
        let chmodded = trusting.statCount
        #expect(chmod(directory.appendingPathComponent("team-5.yaml").path, 0o600) == 0)
        _ = trusting.poll()
        #expect(trusting.statCount - chmodded == 1, "a chmod was not stat'ed")

        let distrusting = source(restatingEveryFileAfter: .zero)
        _ = distrusting.load()
        let start = distrusting.statCount
        for octet in 10..<13 { _ = try renameIntoPlace(distrusting, octet: octet) }
        #expect(distrusting.statCount - start >= 3 * files, "every file is stat'ed at each poll once the stamps are due")
    }

    /// Each rename into place changes its directory, and the directory's stamp alone would have the
    /// registry walked again at every one. The file events say what came and went: a file renamed
    /// over a listed one keeps the listing; a new file, a deleted one and a new subdirectory are
    /// walked for, and served.
    @Test(.enabled(if: FileWriteWatcher() != nil, "needs inotify"))
    func aRenameIntoPlaceDoesNotWalkTheRegistryAgainButAFileComingOrGoingDoes() throws {
        let source = ManifestSource(paths: [directory.path], options: .init(), logger: Logger(label: "test"))
        _ = source.load()
        func renameIntoPlace(_ name: String, _ text: String) throws {
            let temporary = directory.appendingPathComponent(".\(name).tmp")
            try text.write(to: temporary, atomically: false, encoding: .utf8)
            #expect(rename(temporary.path, directory.appendingPathComponent(name).path) == 0)
        }
        /// Polls until a snapshot comes (a bounded number of times).
        func published() -> RegistrySnapshot? {
            for _ in 0..<100 {
                if let snapshot = source.poll() { return snapshot }
                Thread.sleep(forTimeInterval: 0.01)
            }
            return nil
        }
        // The first poll walks once more, now that the directory is watched.
        try renameIntoPlace("shop.yaml", Self.service("web", ip: "10.96.0.20"))
        #expect(published()?.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.20")!])
        let walks = source.walkCount
        for octet in 21..<26 {
            try renameIntoPlace("shop.yaml", Self.service("web", ip: "10.96.0.\(octet)"))
            #expect(published()?.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.\(octet)")!])
        }
        #expect(source.walkCount == walks, "a rename over a listed file walked the registry again")

        try renameIntoPlace("more.yaml", Self.service("api", ip: "10.96.0.11"))
        #expect(published()?.services.map(\.name) == ["api", "web"])
        try FileManager.default.removeItem(at: directory.appendingPathComponent("more.yaml"))
        #expect(published()?.services.map(\.name) == ["web"])
        let nested = directory.appendingPathComponent("team-a")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        try Self.service("cart", ip: "10.96.0.12").write(to: nested.appendingPathComponent("cart.yaml"), atomically: true, encoding: .utf8)
        #expect(published()?.services.map(\.name) == ["cart", "web"])
        #expect(source.walkCount > walks)
    }

    static func namespaceFile(_ count: Int, changing changed: Int? = nil) -> String {
        (0..<count).map { index in
            service("svc-\(index)", ip: "10.96.1.\(index == changed ? 200 : index + 1)")
        }.joined(separator: "---\n")
    }

    /// An edit in a file of many objects derives only the object it changed, not the file's others.
    @Test func anEditInAManyObjectFileDerivesOnlyTheObjectItChanged() throws {
        try write("shop.yaml", Self.namespaceFile(50))
        _ = source.load()
        try write("shop.yaml", Self.namespaceFile(50, changing: 20))
        let update = try #require(source.pollUpdate() ?? source.pollUpdate())
        #expect(update.change.services == [ObjectKey(namespace: "shop", name: "svc-20")])
        #expect(update.snapshot.service(namespace: "shop", name: "svc-20")?.clusterIPs == [IPAddress("10.96.1.200")!])
        #expect(update.snapshot.serviceCount == 50)

        // An object added at the top moves every other one down a document; none is derived again.
        try write("shop.yaml", Self.service("first", ip: "10.96.2.1") + "---\n" + Self.namespaceFile(50, changing: 20))
        let moved = try #require(source.pollUpdate() ?? source.pollUpdate())
        #expect(moved.change.services == [ObjectKey(namespace: "shop", name: "first")])
    }

    /// An object whose new version has an error keeps serving its last good version, and says so;
    /// the file's other changes are served.
    @Test func anObjectWhoseNewVersionIsInvalidKeepsItsLastGoodVersion() throws {
        try write("shop.yaml", Self.service("web", ip: "10.96.0.10") + "---\n" + Self.service("api", ip: "10.96.0.11"))
        _ = source.load()
        let broken = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: 10.96.0.99, ports: [{port: 99999}]}\n"
        try write("shop.yaml", broken + "---\n" + Self.service("api", ip: "10.96.0.12"))
        let update = try #require(pollSettled())
        #expect(update.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.10")!])
        #expect(update.service(namespace: "shop", name: "api")?.clusterIPs == [IPAddress("10.96.0.12")!])
        #expect(recorder.messages.contains { $0.message.contains("Service shop/web keeps its last good version") }, "\(recorder.messages)")
        #expect(recorder.messages.contains { $0.level == .error && $0.message.contains("99999") })

        // Fixed: the new version is served.
        try write("shop.yaml", Self.service("web", ip: "10.96.0.13") + "---\n" + Self.service("api", ip: "10.96.0.12"))
        #expect(pollSettled()?.service(namespace: "shop", name: "web")?.clusterIPs == [IPAddress("10.96.0.13")!])
    }

    /// An object that was never valid is left out and everything else is served from the start.
    @Test func aNeverValidObjectIsSkippedAndTheRestServed() throws {
        let broken = "apiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: shop}\nspec: {clusterIP: 10.96.0.300, ports: [{port: 80}]}\n"
        try write("shop.yaml", Self.service("web", ip: "10.96.0.10") + "---\n" + broken)
        let result = source.load()
        #expect(!result.isValid)
        #expect(result.errors.map(\.code) == [.invalidIP])
        #expect(result.snapshot.services.map(\.name) == ["web"])
    }
}

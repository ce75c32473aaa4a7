import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A large JSON file (a `kubectl get ... -o json` List of a whole cluster) whose objects the
/// store takes in chunks as they are decoded (on another thread, given a second CPU, so that the
/// store stages one chunk while the next is parsed): the file's objects are never all held at once.
/// For the 163 MB List of the 50k-service cluster, holding them all before the store took them was
/// about 75 MB of the start's peak heap.
enum StreamedJSONFile {
    /// JSON files larger than this are streamed into the store; smaller ones are decoded whole,
    /// a few ahead (`ReadAhead`), which costs less for the many small files of a directory.
    static let streamedAbove = 8 << 20

    /// Whether the file at `path` is a JSON file to stream (`size`: its size, when known).
    static func streams(_ path: String, size: Int? = nil, above threshold: Int = streamedAbove) -> Bool {
        guard ManifestParser.isJSONFile(path) else { return false }
        if let size { return size > threshold }
        var info = stat()
        return stat(path, &info) == 0 && Int(info.st_size) > threshold
    }

    /// The CPUs this process may run on: its affinity mask (`taskset`, a cgroup's cpuset), as
    /// `/proc/self/status` gives it.
    static let usableCores: Int = {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
        else { return ProcessInfo.processInfo.activeProcessorCount }
        let mask = line.dropFirst("Cpus_allowed:".count)
        return max(1, mask.reduce(0) { $0 + ($1.hexDigitValue ?? 0).nonzeroBitCount })
    }()

    /// Objects handed over at a time.
    static let chunkSize = 2048

    /// Decodes the JSON file at `path`, calling `take` on this thread with its objects in file
    /// order, and returns what is left: the rest of the objects, skipped objects, errors and the
    /// file's hash. `retracted` says that `take` was given objects of a file that then turned out
    /// broken, or no List after all: the caller must drop them and read the file whole.
    ///
    /// On one core (`onAnotherThread` false) the two threads would only take turns, and the decoded
    /// objects cross from one thread's malloc arena to the other's: pinned to one CPU, the
    /// 50k-service List loaded in 3.9-4.2 s that way, against 2.9-3.2 s decoding on this thread.
    /// The chunks are then taken as they are decoded, here.
    ///
    /// `take` must find the objects defined twice (`RegistryLoad.stage` does): the decoder does not
    /// look for them, so that the keys of a million objects are recorded once, not twice.
    static func decode(
        at path: String, onAnotherThread: Bool = usableCores > 1, take: ([RegistryObject]) -> Void
    ) -> (file: DecodedFile, hash: Int, retracted: Bool) {
        guard onAnotherThread else {
            return DecodedFile.streamingJSON(at: path, deliveringEvery: chunkSize, findingDuplicates: false, to: take)
        }
        let channel = ChunkChannel<[RegistryObject]>(capacity: 4)
        let outcome = Mutex<(file: DecodedFile, hash: Int, retracted: Bool)?>(nil)
        DispatchQueue.global().async {
            let decoded = DecodedFile.streamingJSON(at: path, deliveringEvery: chunkSize, findingDuplicates: false) { channel.send($0) }
            outcome.withLock { $0 = decoded }
            channel.close()
        }
        while let chunk = channel.next() { take(chunk) }
        return outcome.withLock { $0! }
    }
}

/// Chunks handed from one thread to another in order, at most `capacity` waiting: a sender
/// ahead of its receiver waits instead of piling chunks up.
final class ChunkChannel<Chunk: Sendable>: Sendable {
    private let waiting = Mutex<[Chunk]>([])
    private let room: DispatchSemaphore
    /// Signalled once per chunk sent, and once by `close`.
    private let ready = DispatchSemaphore(value: 0)

    init(capacity: Int) {
        room = DispatchSemaphore(value: capacity)
    }

    func send(_ chunk: Chunk) {
        room.wait()
        waiting.withLock { $0.append(chunk) }
        ready.signal()
    }

    /// No more chunks: `next` returns nil once the waiting ones are taken.
    func close() {
        ready.signal()
    }

    func next() -> Chunk? {
        ready.wait()
        guard let chunk = waiting.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return nil }
        room.signal()
        return chunk
    }
}

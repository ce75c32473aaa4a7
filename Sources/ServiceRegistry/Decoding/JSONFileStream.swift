#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON file read in chunks into one buffer that slides along it: what `JSONComposer` streams a
/// large `kubectl get -o json` List from, so that the file's text is never in memory whole (163 MB
/// for 50k Services). The bytes are hashed and checked as UTF-8 as they leave the buffer, so the
/// file is read once.
final class JSONFileStream {
    /// Bytes read at a time, and the least kept ahead of the parser between two items.
    static let chunkSize = 1 << 20

    private let descriptor: Int32
    private(set) var buffer: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// Bytes of the file in `buffer`.
    private(set) var count = 0
    /// The whole rest of the file is in `buffer`.
    private(set) var atEnd = false
    /// How many of the buffer's bytes have been hashed and checked.
    private var checked = 0
    /// Bytes dropped from the front so far: nothing can be parsed again from scratch once above 0.
    private(set) var discarded = 0
    private var hash = ContentHash()
    private(set) var isValidUTF8 = true

    enum Failure: Error {
        case unreadable(String)
    }

    init(path: String) throws(Failure) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(String(cString: strerror(errno))) }
        capacity = 4 * Self.chunkSize
        buffer = .allocate(capacity: capacity)
        try fill()
    }

    deinit {
        close(descriptor)
        buffer.deallocate()
    }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: buffer, count: count) }

    /// Reads until the buffer is full or the file ends.
    func fill() throws(Failure) {
        guard count < capacity, !atEnd else { return }
        switch UTF8FileReader.fill(descriptor, UnsafeMutableRawBufferPointer(start: buffer + count, count: capacity - count)) {
        case .failure(let error):
            throw .unreadable(error.reason)
        case .success(let got):
            atEnd = got < capacity - count
            count += got
        }
    }

    /// Drops the bytes before `offset` (already parsed), moves the rest to the front and reads more;
    /// a buffer that cannot drop anything grows. Returns how far the kept bytes moved back.
    /// `offset` must be at a character boundary (the parser passes the start of a line or value).
    func advance(keepingFrom offset: Int) throws(Failure) -> Int {
        check(upTo: offset)
        let kept = count - offset
        if offset > 0 {
            buffer.update(from: buffer + offset, count: kept)
            count = kept
            checked -= offset
            discarded += offset
        }
        if capacity - count < Self.chunkSize {
            grow(to: max(capacity * 2, count + 2 * Self.chunkSize))
        }
        try fill()
        return offset
    }

    /// Reads the rest of the file whole (for a tail after the streamed list, or to parse again).
    func readToEnd() throws(Failure) {
        while !atEnd {
            if count == capacity { grow(to: capacity * 2) }
            try fill()
        }
    }

    /// The hash of the whole file (once it has been read to its end).
    func finishHash() -> Int {
        check(upTo: count)
        let value = hash.finalize()
        return value == 0 ? 1 : value
    }

    private func check(upTo offset: Int) {
        guard offset > checked else { return }
        let region = UnsafeBufferPointer(start: buffer + checked, count: offset - checked)
        hash.update(UnsafeRawBufferPointer(region))
        if isValidUTF8 { isValidUTF8 = UTF8FileReader.isValidUTF8(region) }
        checked = offset
    }

    private func grow(to newCapacity: Int) {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: buffer, count: count)
        buffer.deallocate()
        buffer = bigger
        capacity = newCapacity
    }
}

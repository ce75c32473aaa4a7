#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// Reads a file straight into a `String`'s storage. `FileManager.contents(atPath:)` followed by
/// `String(data:encoding:)` holds the file twice (the `Data`, then the string's copy): 326 MB for
/// a 163 MB `kubectl get -o json` List, most of the start-up's peak memory.
enum UTF8FileReader {
    enum Failure: Error, Equatable {
        /// The path cannot be opened or read (the reason from errno).
        case unreadable(String)
        case notUTF8
    }

    /// A read(2) that failed: the reason from errno.
    struct ReadError: Error {
        var reason: String
    }

    static func read(_ path: String) -> Result<String, Failure> {
        read(path, into: { capacity, fill in String(unsafeUninitializedCapacity: capacity, initializingUTF8With: fill) },
             fromBytes: { String(decoding: $0, as: UTF8.self) })
    }

    /// The file's bytes, checked to be UTF-8 but not made a `String`: for a file compared with its
    /// last read, where only the parts that changed need strings (making one of a 730 KiB file
    /// checks its UTF-8 a second time, a twentieth of the CPU of a one-object edit).
    static func readBytes(_ path: String) -> Result<[UInt8], Failure> {
        read(path, into: { capacity, fill in
            [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in count = fill(buffer) }
        }, fromBytes: { $0 })
    }

    /// Reads `path` into the storage `make` creates with a capacity and fills with the given
    /// closure (which returns how many bytes it kept), or `fromBytes` for a file without a size.
    private static func read<Storage>(
        _ path: String,
        into make: (Int, (UnsafeMutableBufferPointer<UInt8>) -> Int) -> Storage,
        fromBytes: ([UInt8]) -> Storage
    ) -> Result<Storage, Failure> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return readToEnd(descriptor).map(fromBytes) }
        // One byte more than the size says, to notice a file that grew since fstat.
        let capacity = Int(info.st_size) + 1
        var failure: Failure?
        var grew = false
        let storage = make(capacity) { buffer in
            let filled: Int
            switch fill(descriptor, UnsafeMutableRawBufferPointer(buffer)) {
            case .failure(let error):
                failure = .unreadable(error.reason)
                return 0
            case .success(let count):
                filled = count
            }
            if filled == buffer.count {
                grew = true
                return 0
            }
            guard isValidUTF8(UnsafeBufferPointer(rebasing: buffer[..<filled])) else {
                failure = .notUTF8
                return 0
            }
            return filled
        }
        if let failure { return .failure(failure) }
        // Written to while being read: read again from the start with its new size.
        if grew { return read(path, into: make, fromBytes: fromBytes) }
        return .success(storage)
    }

    /// A pipe or another file without a size (`clusterdns check /dev/stdin`): read to its end.
    private static func readToEnd(_ descriptor: Int32) -> Result<[UInt8], Failure> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            switch chunk.withUnsafeMutableBytes({ fill(descriptor, $0) }) {
            case .failure(let error):
                return .failure(.unreadable(error.reason))
            case .success(let got):
                bytes += chunk[..<got]
                guard got == chunk.count else {
                    guard bytes.withUnsafeBufferPointer(isValidUTF8) else { return .failure(.notUTF8) }
                    return .success(bytes)
                }
            }
        }
    }

    /// Reads into `region` until it is full or the file ends (fewer bytes than it holds), going on
    /// after a signal: every read of a manifest (whole, streamed or only hashed) goes through here.
    static func fill(_ descriptor: Int32, _ region: UnsafeMutableRawBufferPointer) -> Result<Int, ReadError> {
        var filled = 0
        while filled < region.count {
            let got = systemRead(descriptor, region.baseAddress! + filled, region.count - filled)
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(ReadError(reason: String(cString: strerror(errno))))
            }
            if got == 0 { break }
            filled += got
        }
        return .success(filled)
    }

    /// Whether `bytes` are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
    /// above U+10FFFF). Manifests are nearly all ASCII, checked eight bytes at a time.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = bytes.count
        var index = 0
        let raw = UnsafeRawBufferPointer(bytes)
        let highBits: UInt64 = 0x8080_8080_8080_8080
        while index < count {
            // ASCII thirty-two bytes a step (four words tested at once), then eight.
            while index + 32 <= count {
                let words =
                    raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self)
                guard words & highBits == 0 else { break }
                index += 32
            }
            guard index < count else { break }
            if index + 8 <= count, raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & highBits == 0 {
                index += 8
                continue
            }
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var lowest: UInt8 = 0x80
            var highest: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lowest = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; highest = 0x9F
            case 0xF0: length = 4; lowest = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; highest = 0x8F
            default: return false
            }
            guard index + length <= count else { return false }
            let second = bytes[index + 1]
            guard second >= lowest && second <= highest else { return false }
            for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 { return false }
            index += length
        }
        return true
    }
}

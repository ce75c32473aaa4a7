#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-bit hash of a file's or a YAML document's bytes, to tell whether they changed since the
/// last read.
///
/// Written here rather than taken from the standard library for speed: `Hasher` (SipHash-1-3,
/// seeded per process to resist hash flooding) was 12 % of the watcher's CPU in the churn
/// benchmark, hashing each 730 KiB namespace file twice per edit. Each step takes 16 bytes into
/// one of four independent lanes with one 64 × 64 → 128-bit multiply, its halves folded (as
/// wyhash does). The version before took eight bytes a step with two multiplies, and the
/// documents' hashes were still about 4 % of an endpoint edit's work. Resistance to chosen
/// collisions is not needed: whoever writes the manifests decides what is served anyway.
///
/// A multiply by zero would forget a lane: every other byte of the constants each word meets is
/// 0xFF, which UTF-8 never holds, so a word of text never cancels its constant.
///
/// Bytes can be fed in pieces of any size (`update`), for a file read in chunks; the result is the
/// same as for the whole at once.
struct ContentHash {
    private static let constants: (UInt64, UInt64, UInt64, UInt64) = (
        0xFF3A_FF91_FF5C_FF27, 0xFFB4_FF6E_FF0D_FFE2, 0xFF7F_FF19_FFA8_FF43, 0xFFC6_FF52_FF8B_FF34
    )
    private static let blockSize = 64

    private var lanes: (UInt64, UInt64, UInt64, UInt64) = (0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89)
    private var count = 0
    /// Bytes short of a block, kept for the next piece.
    private var tail: [UInt8] = []

    static func of(_ bytes: UnsafeRawBufferPointer) -> Int {
        // Whole at once: the bytes short of a block are finished from where they lie, not copied
        // into `tail` (an allocation for each of a file's thousand documents).
        var hash = ContentHash()
        hash.count = bytes.count
        let rest = hash.absorbWholeBlocks(bytes, from: 0)
        return hash.finalize(remainder: UnsafeRawBufferPointer(rebasing: bytes[rest...]))
    }

    static func of(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { of(UnsafeRawBufferPointer($0)) }
    }

    /// The hash of a file's bytes, read a chunk at a time (0 when it cannot be read), equal to that
    /// of its whole text.
    static func ofFile(_ path: String) -> Int {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
        defer { chunk.deallocate() }
        var hash = ContentHash()
        while true {
            guard case .success(let got) = UTF8FileReader.fill(descriptor, chunk) else { return 0 }
            hash.update(UnsafeRawBufferPointer(rebasing: chunk[..<got]))
            if got < chunk.count { break }
        }
        let value = hash.finalize()
        return value == 0 ? 1 : value
    }

    /// The 128-bit product's halves folded.
    @inline(__always)
    private static func fold(_ first: UInt64, _ second: UInt64) -> UInt64 {
        let product = first.multipliedFullWidth(by: second)
        return product.high ^ product.low
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        count += bytes.count
        var offset = 0
        if !tail.isEmpty {
            let taken = min(Self.blockSize - tail.count, bytes.count)
            tail.append(contentsOf: bytes[0..<taken])
            offset = taken
            guard tail.count == Self.blockSize else { return }
            tail.withUnsafeBytes { absorbBlock($0, at: 0) }
            tail.removeAll(keepingCapacity: true)
        }
        offset = absorbWholeBlocks(bytes, from: offset)
        tail.append(contentsOf: bytes[offset...])
    }

    /// Takes in the whole blocks of `bytes` from `offset` on; returns where the rest starts.
    private mutating func absorbWholeBlocks(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Int {
        var offset = offset
        while offset + Self.blockSize <= bytes.count {
            absorbBlock(bytes, at: offset)
            offset += Self.blockSize
        }
        return offset
    }

    @inline(__always)
    private mutating func absorbBlock(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        func word(_ index: Int) -> UInt64 { bytes.loadUnaligned(fromByteOffset: offset + index * 8, as: UInt64.self) }
        lanes.0 = Self.fold(word(0) ^ Self.constants.0, word(1) ^ lanes.0)
        lanes.1 = Self.fold(word(2) ^ Self.constants.1, word(3) ^ lanes.1)
        lanes.2 = Self.fold(word(4) ^ Self.constants.2, word(5) ^ lanes.2)
        lanes.3 = Self.fold(word(6) ^ Self.constants.3, word(7) ^ lanes.3)
    }

    func finalize() -> Int {
        tail.withUnsafeBytes { finalize(remainder: $0) }
    }

    /// The hash, `bytes` being what followed the last whole block.
    private func finalize(remainder bytes: UnsafeRawBufferPointer) -> Int {
        var hash = Self.fold(lanes.0 ^ Self.constants.1, lanes.1 ^ Self.constants.0)
            ^ Self.fold(lanes.2 ^ Self.constants.3, lanes.3 ^ Self.constants.2) ^ UInt64(count)
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = Self.fold(hash ^ Self.constants.2, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) ^ Self.constants.3)
            offset += 8
        }
        if offset < bytes.count {
            var last: UInt64 = 0
            for index in offset..<bytes.count { last = last << 8 | UInt64(bytes[index]) }
            hash = Self.fold(hash ^ Self.constants.1, last ^ UInt64(bytes.count - offset) << 56 ^ Self.constants.0)
        }
        // The finalizer of MurmurHash3: every input bit reaches every output bit.
        hash ^= hash >> 33
        hash &*= 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        hash &*= 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return Int(truncatingIfNeeded: hash)
    }
}

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
/// benchmark, hashing each 730 KiB namespace file twice per edit; this one reads eight bytes a step
/// in four independent lanes. Resistance to chosen collisions is not needed: whoever writes the
/// manifests decides what is served anyway.
///
/// Bytes can be fed in pieces of any size (`update`), for a file read in chunks; the result is the
/// same as for the whole at once.
struct ContentHash {
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let laneMultiplier: UInt64 = 0xC2B2_AE3D_27D4_EB4F

    private var lanes: (UInt64, UInt64, UInt64, UInt64) = (0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89)
    private var count = 0
    /// Bytes short of a 32-byte block, kept for the next piece.
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

    @inline(__always)
    private static func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
        let folded = (lane ^ word) &* laneMultiplier
        return (folded << 29 | folded >> 35) &* multiplier
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        count += bytes.count
        var offset = 0
        if !tail.isEmpty {
            let taken = min(32 - tail.count, bytes.count)
            tail.append(contentsOf: bytes[0..<taken])
            offset = taken
            guard tail.count == 32 else { return }
            tail.withUnsafeBytes { absorbBlock($0, at: 0) }
            tail.removeAll(keepingCapacity: true)
        }
        offset = absorbWholeBlocks(bytes, from: offset)
        tail.append(contentsOf: bytes[offset...])
    }

    /// Takes in the whole 32-byte blocks of `bytes` from `offset` on; returns where the rest starts.
    private mutating func absorbWholeBlocks(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Int {
        var offset = offset
        while offset + 32 <= bytes.count {
            absorbBlock(bytes, at: offset)
            offset += 32
        }
        return offset
    }

    @inline(__always)
    private mutating func absorbBlock(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        lanes.0 = Self.mix(lanes.0, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        lanes.1 = Self.mix(lanes.1, bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        lanes.2 = Self.mix(lanes.2, bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
        lanes.3 = Self.mix(lanes.3, bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self))
    }

    func finalize() -> Int {
        tail.withUnsafeBytes { finalize(remainder: $0) }
    }

    /// The hash, `bytes` being what followed the last whole block.
    private func finalize(remainder bytes: UnsafeRawBufferPointer) -> Int {
        var hash = Self.mix(Self.mix(Self.mix(lanes.0, lanes.1), lanes.2), lanes.3) ^ UInt64(count)
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = Self.mix(hash, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < bytes.count {
            var last: UInt64 = 0
            for index in offset..<bytes.count { last = last << 8 | UInt64(bytes[index]) }
            hash = Self.mix(hash, last ^ UInt64(bytes.count - offset) << 56)
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

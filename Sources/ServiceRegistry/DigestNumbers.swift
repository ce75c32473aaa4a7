/// A number for each key digest, as a dictionary would keep it, in a sorted array instead: 20
/// bytes a key rather than a hash table's buckets, which stay at most three quarters full and
/// grow by doubling (117k keys of 50k Services took 262k buckets of 20 bytes, 5.3 MB; here
/// 2.3 MB). Changes wait in a small dictionary and are merged in once they are a sixteenth of
/// the array, so a change costs a dictionary update and a lookup a binary search.
struct DigestNumbers: Sendable {
    private var digests: [KeyDigest] = []
    private var numbers: [UInt32] = []
    /// Changes not merged yet; nil marks a removal.
    private var pending: [KeyDigest: UInt32?] = [:]

    subscript(digest: KeyDigest) -> UInt32? {
        get {
            if let change = pending[digest] { return change }
            return position(of: digest).map { numbers[$0] }
        }
        set {
            pending[digest] = .some(newValue)
            if pending.count > max(1024, digests.count / 16) { merge() }
        }
    }

    private func position(of digest: KeyDigest) -> Int? {
        var (low, high) = (0, digests.count)
        while low < high {
            let middle = (low + high) / 2
            if digests[middle] < digest { low = middle + 1 } else { high = middle }
        }
        return low < digests.count && digests[low] == digest ? low : nil
    }

    private mutating func merge() {
        let changes = pending.sorted { $0.key < $1.key }
        pending = [:]
        _ = merge(changes.lazy.map { ($0.key, $0.value) }, count: changes.count, replacingHeld: true)
    }

    /// Inserts `entries`, sorted by digest and each digest once, but for the digests held already,
    /// which keep their numbers and are returned: one merge for a whole file of the initial load,
    /// instead of each of its keys through `pending`.
    mutating func insertUnlessHeld(_ entries: [(digest: KeyDigest, number: UInt32)]) -> [KeyDigest] {
        if !pending.isEmpty { merge() }
        // (Lazily: a million keys' entries are not copied once more.)
        return merge(entries.lazy.map { ($0.digest, $0.number) }, count: entries.count, replacingHeld: false)
    }

    /// Merges `count` sorted `changes` into the arrays (a nil number removes); returns the digests
    /// held already that were left as they were (`replacingHeld` false).
    private mutating func merge(_ changes: some Sequence<(KeyDigest, UInt32?)>, count: Int, replacingHeld: Bool) -> [KeyDigest] {
        var kept: [KeyDigest] = []
        var (mergedDigests, mergedNumbers) = ([KeyDigest](), [UInt32]())
        mergedDigests.reserveCapacity(digests.count + count)
        mergedNumbers.reserveCapacity(digests.count + count)
        var index = 0
        for (digest, number) in changes {
            while index < digests.count && digests[index] < digest {
                mergedDigests.append(digests[index])
                mergedNumbers.append(numbers[index])
                index += 1
            }
            if index < digests.count && digests[index] == digest {
                guard replacingHeld else {
                    kept.append(digest)
                    continue
                }
                index += 1
            }
            if let number {
                mergedDigests.append(digest)
                mergedNumbers.append(number)
            }
        }
        mergedDigests.append(contentsOf: digests[index...])
        mergedNumbers.append(contentsOf: numbers[index...])
        (digests, numbers) = (mergedDigests, mergedNumbers)
        return kept
    }
}

/// A persistent table ordered by key, held as short runs of entries in arrays of their own size.
///
/// Why not a `TreeDictionary`: a hash trie's entry costs about 1.6 times its size (1M entries of
/// 72 bytes took 117 bytes each, of 80 bytes 127), and the tables this replaces hold an entry per
/// Pod and per address: a million of each at cluster scale. Here an entry costs its size and a
/// share of one array header. A snapshot shares the runs; a change copies the run it touches and,
/// once per version, the list of runs (8 bytes a run of up to `runLimit` entries).
///
/// Public and `@inlinable`, not `package`: this toolchain specializes a generic from another module
/// only when it is public, and the catalog's reverse index (ClusterZones) ran it unspecialized,
/// copying a whole entry with its references for each key compared: half of the catalog's start.
public struct SortedRuns<Key: Comparable & Sendable, Value: Sendable>: Sendable {
    public typealias Entry = (key: Key, value: Value)

    /// Runs in key order, none empty, each sorted and at most `runLimit` long.
    @usableFromInline var runs: [[Entry]] = []
    @usableFromInline var storedCount = 0

    @inlinable public var count: Int { storedCount }

    /// Long enough that the list of runs stays small (a million entries, some 10k runs), short
    /// enough that copying one on a change is cheap.
    @inlinable static var runLimit: Int { 128 }

    @inlinable public init() {}

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable public subscript(key: Key) -> Value? {
        get {
            guard !runs.isEmpty else { return nil }
            let run = runIndex(for: key)
            let (position, found) = Self.position(of: key, in: runs[run])
            return found ? runs[run][position].value : nil
        }
        set { updateValue(forKey: key) { $0 = newValue } }
    }

    /// Calls `body` with the value under `key` (nil when none) and keeps what it leaves there
    /// (nil removes the entry): one search for a read and a write.
    @inlinable public mutating func updateValue<R>(forKey key: Key, with body: (inout Value?) -> R) -> R {
        guard !runs.isEmpty else {
            var value: Value?
            let result = body(&value)
            if let value {
                runs = [[(key, value)]]
                storedCount = 1
            }
            return result
        }
        let run = runIndex(for: key)
        let (position, found) = Self.position(of: key, in: runs[run])
        var value: Value? = found ? runs[run][position].value : nil
        let result = body(&value)
        switch (found, value) {
        case (true, let value?):
            runs[run][position].value = value
        case (true, nil):
            remove(at: position, inRun: run)
        case (false, let value?):
            insert((key, value), at: position, inRun: run)
        case (false, nil):
            break
        }
        return result
    }

    /// Calls `body` with every entry in key order.
    @inlinable public func forEach(_ body: (Entry) throws -> Void) rethrows {
        for run in runs {
            for entry in run { try body(entry) }
        }
    }

    /// The keys in order.
    @inlinable public var keys: [Key] {
        var keys: [Key] = []
        keys.reserveCapacity(count)
        forEach { keys.append($0.key) }
        return keys
    }

    /// The run that holds `key` or would: the last whose first key is not above it, else the first.
    /// (The searches load each key alone: an array's subscript, a buffer pointer's and even a
    /// pointer's `pointee.key` copied the whole entry, its value's references retained and
    /// released, at each step: 312k copies for the 22k Pods of a 50k-Service load, 1.8 % of its
    /// instructions.)
    @inlinable func runIndex(for key: Key) -> Int {
        runs.withUnsafeBufferPointer { runs in
            var low = 0
            var high = runs.count
            while low < high {
                let middle = (low + high) / 2
                if runs[middle].withUnsafeBufferPointer({ Self.key(at: 0, of: $0) <= key }) { low = middle + 1 } else { high = middle }
            }
            return max(0, low - 1)
        }
    }

    /// Where `key` is in `run`, or where it would go.
    @inlinable static func position(of key: Key, in run: [Entry]) -> (Int, found: Bool) {
        run.withUnsafeBufferPointer { entries in
            var low = 0
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if Self.key(at: middle, of: entries) < key { low = middle + 1 } else { high = middle }
            }
            return (low, low < entries.count && Self.key(at: low, of: entries) == key)
        }
    }

    /// The key of an entry, loaded alone from where the entry lies (a tuple's first element is at
    /// its start).
    @inlinable static func key(at index: Int, of entries: UnsafeBufferPointer<Entry>) -> Key {
        assert(MemoryLayout<Entry>.offset(of: \Entry.key) == 0)
        return UnsafeRawPointer(entries.baseAddress!).load(fromByteOffset: index * MemoryLayout<Entry>.stride, as: Key.self)
    }

    @inlinable mutating func insert(_ entry: Entry, at position: Int, inRun run: Int) {
        storedCount += 1
        let length = runs[run].count
        if length >= Self.runLimit {
            // Split in two, each an array of its own size; the entry goes into the half it sorts in.
            let half = length / 2
            var lower = Self.exactCopy(runs[run][..<half], room: 1)
            var upper = Self.exactCopy(runs[run][half...], room: 1)
            if position <= half { lower.insert(entry, at: position) } else { upper.insert(entry, at: position - half) }
            runs[run] = lower
            runs.insert(upper, at: run + 1)
            return
        }
        if length == runs[run].capacity {
            // Grown by an eighth, not doubled as an array grows by itself: a run's spare room is
            // memory every version keeps. Reserved in place, so that a run no snapshot shares has
            // its entries moved, not copied and released (a reference count each, some eight
            // times over for each entry of an index built up from scratch).
            runs[run].reserveCapacity(length + max(1, length / 8))
        }
        runs[run].insert(entry, at: position)
    }

    @inlinable mutating func remove(at position: Int, inRun run: Int) {
        storedCount -= 1
        if runs[run].count == 1 {
            runs.remove(at: run)
            return
        }
        runs[run].remove(at: position)
        let length = runs[run].count
        if length * 2 < runs[run].capacity && runs[run].capacity > 8 {
            runs[run] = Self.exactCopy(runs[run][...], room: 0)
        }
    }

    /// A new array of `entries` with room for `room` more and no more (`Array(slice)` may keep the
    /// slice's whole buffer).
    @inlinable static func exactCopy(_ entries: ArraySlice<Entry>, room: Int) -> [Entry] {
        var copy: [Entry] = []
        copy.reserveCapacity(entries.count + room)
        copy.append(contentsOf: entries)
        return copy
    }
}

/// A persistent table ordered by key, held as short runs of entries in arrays of their own size.
///
/// Why not a `TreeDictionary`: a hash trie's entry costs about 1.6 times its size (1M entries of
/// 72 bytes took 117 bytes each, of 80 bytes 127), and the tables this replaces hold an entry per
/// Pod and per address: a million of each at cluster scale. Here an entry costs its size and a
/// share of one array header. A snapshot shares the runs; a change copies the run it touches and,
/// once per version, the group of runs it is in and the list of groups. (One list of every run
/// was copied whole, a reference count each, by the first change of each version: the reverse
/// index's 1,300 runs, twice a change, were a twentieth of applying an endpoint edit at 50k
/// Services.)
///
/// Public and `@inlinable`, not `package`: this toolchain specializes a generic from another module
/// only when it is public, and the catalog's reverse index (ClusterZones) ran it unspecialized,
/// copying a whole entry with its references for each key compared: half of the catalog's start.
public struct SortedRuns<Key: Comparable & Sendable, Value: Sendable>: Sendable {
    public typealias Entry = (key: Key, value: Value)

    /// Groups of runs in key order, none empty, each of at most `groupLimit` runs; the runs none
    /// empty, each sorted and at most `runLimit` long.
    @usableFromInline var groups: [[[Entry]]] = []
    @usableFromInline var storedCount = 0

    @inlinable public var count: Int { storedCount }

    /// Long enough that the list of runs stays small (a million entries, some 10k runs), short
    /// enough that copying one on a change is cheap.
    @inlinable static var runLimit: Int { 128 }
    /// As few groups as runs in a group, about, at a million entries.
    @inlinable static var groupLimit: Int { 64 }

    @inlinable public init() {}

    /// Lays a table out in one pass from entries given in key order, no key twice, in runs half
    /// full (so that the changes after do not split each at once). Built entry by entry, a table
    /// searched, shifted and regrew a run for each (the catalog's reverse index: some 72k
    /// addresses at 50k Services).
    public struct Builder {
        @usableFromInline var table = SortedRuns()
        @usableFromInline var group: [[Entry]] = []
        @usableFromInline var run: [Entry] = []

        @inlinable public init() {}

        /// The entries appended so far.
        @inlinable public var count: Int { table.storedCount }

        @inlinable public mutating func append(_ key: Key, _ value: Value) {
            assert(run.last.map { $0.key < key } ?? true, "keys in order, each once")
            if run.isEmpty { run.reserveCapacity(SortedRuns.runLimit / 2) }
            run.append((key, value))
            table.storedCount += 1
            if run.count == SortedRuns.runLimit / 2 { endRun() }
        }

        @inlinable mutating func endRun() {
            group.append(run)
            run = []
            if group.count == SortedRuns.groupLimit / 2 {
                table.groups.append(group)
                group = []
            }
        }

        @inlinable public mutating func finish() -> SortedRuns {
            if !run.isEmpty { endRun() }
            if !group.isEmpty { table.groups.append(group) }
            group = []
            return table
        }
    }

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable public subscript(key: Key) -> Value? {
        get {
            guard !groups.isEmpty else { return nil }
            let (group, run) = runIndex(for: key)
            let (position, found) = Self.position(of: key, in: groups[group][run])
            return found ? groups[group][run][position].value : nil
        }
        set { updateValue(forKey: key) { $0 = newValue } }
    }

    /// Calls `body` with the value under `key` (nil when none) and keeps what it leaves there
    /// (nil removes the entry): one search for a read and a write.
    @inlinable public mutating func updateValue<R>(forKey key: Key, with body: (inout Value?) -> R) -> R {
        guard !groups.isEmpty else {
            var value: Value?
            let result = body(&value)
            if let value {
                groups = [[[(key, value)]]]
                storedCount = 1
            }
            return result
        }
        let (group, run) = runIndex(for: key)
        let (position, found) = Self.position(of: key, in: groups[group][run])
        var value: Value? = found ? groups[group][run][position].value : nil
        let result = body(&value)
        switch (found, value) {
        case (true, let value?):
            groups[group][run][position].value = value
        case (true, nil):
            remove(at: position, inRun: run, ofGroup: group)
        case (false, let value?):
            insert((key, value), at: position, inRun: run, ofGroup: group)
        case (false, nil):
            break
        }
        return result
    }

    /// Calls `body` with every entry in key order.
    @inlinable public func forEach(_ body: (Entry) throws -> Void) rethrows {
        for group in groups {
            for run in group {
                for entry in run { try body(entry) }
            }
        }
    }

    /// The keys in order.
    @inlinable public var keys: [Key] {
        var keys: [Key] = []
        keys.reserveCapacity(count)
        forEach { keys.append($0.key) }
        return keys
    }

    /// The group and run that hold `key` or would: the last whose first key is not above it, else
    /// the first. (The searches load each key alone: an array's subscript, a buffer pointer's and
    /// even a pointer's `pointee.key` copied the whole entry, its value's references retained and
    /// released, at each step: 312k copies for the 22k Pods of a 50k-Service load, 1.8 % of its
    /// instructions.)
    @inlinable func runIndex(for key: Key) -> (group: Int, run: Int) {
        groups.withUnsafeBufferPointer { groups in
            let group = Self.lastStarting(atOrBelow: key, count: groups.count) { groups[$0].withUnsafeBufferPointer { Self.firstKey(of: $0[0]) } }
            let run = groups[group].withUnsafeBufferPointer { runs in
                Self.lastStarting(atOrBelow: key, count: runs.count) { Self.firstKey(of: runs[$0]) }
            }
            return (group, run)
        }
    }

    /// The last of `count` things whose first key (`firstKey`) is not above `key`, else the first.
    @inlinable static func lastStarting(atOrBelow key: Key, count: Int, firstKey: (Int) -> Key) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if firstKey(middle) <= key { low = middle + 1 } else { high = middle }
        }
        return max(0, low - 1)
    }

    @inlinable static func firstKey(of run: [Entry]) -> Key {
        run.withUnsafeBufferPointer { key(at: 0, of: $0) }
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

    @inlinable mutating func insert(_ entry: Entry, at position: Int, inRun run: Int, ofGroup group: Int) {
        storedCount += 1
        let length = groups[group][run].count
        if length >= Self.runLimit {
            // Split in two, each an array of its own size; the entry goes into the half it sorts in.
            let half = length / 2
            var lower = Self.exactCopy(groups[group][run][..<half], room: 1)
            var upper = Self.exactCopy(groups[group][run][half...], room: 1)
            if position <= half { lower.insert(entry, at: position) } else { upper.insert(entry, at: position - half) }
            groups[group][run] = lower
            groups[group].insert(upper, at: run + 1)
            if groups[group].count > Self.groupLimit {
                let runs = groups[group]
                let middle = runs.count / 2
                groups[group] = Array(runs[..<middle])
                groups.insert(Array(runs[middle...]), at: group + 1)
            }
            return
        }
        if length == groups[group][run].capacity {
            // Grown by an eighth, not doubled as an array grows by itself: a run's spare room is
            // memory every version keeps. Reserved in place, so that a run no snapshot shares has
            // its entries moved, not copied and released (a reference count each, some eight
            // times over for each entry of an index built up from scratch).
            groups[group][run].reserveCapacity(length + max(1, length / 8))
        }
        groups[group][run].insert(entry, at: position)
    }

    @inlinable mutating func remove(at position: Int, inRun run: Int, ofGroup group: Int) {
        storedCount -= 1
        if groups[group][run].count == 1 {
            if groups[group].count == 1 { groups.remove(at: group) } else { groups[group].remove(at: run) }
            return
        }
        groups[group][run].remove(at: position)
        let length = groups[group][run].count
        if length * 2 < groups[group][run].capacity && groups[group][run].capacity > 8 {
            groups[group][run] = Self.exactCopy(groups[group][run][...], room: 0)
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

/// A growable array of plain values that one scanner owns alone, so without copy-on-write.
/// `FlatJSONScanner` appends a node for each of the 5 million values of the 50k-Service List, and
/// each `Array.append` asked the runtime whether the buffer was shared; an object's children were
/// moved with a `replaceSubrange`.
struct ScanBuffer<Element: BitwiseCopyable>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    init() {
        capacity = 64
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    subscript(index: Int) -> Element {
        // One unsigned comparison covers a negative index too.
        precondition(UInt(bitPattern: index) < UInt(bitPattern: count), "ScanBuffer index out of range")
        return base[index]
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow(toHold: count + 1) }
        (base + count).initialize(to: element)
        count += 1
    }

    /// Appends the elements of `other` from `start` on.
    mutating func append(contentsOf other: borrowing ScanBuffer<Element>, from start: Int) {
        precondition(start >= 0 && start <= other.count, "ScanBuffer range out of range")
        let added = other.count - start
        if count + added > capacity { grow(toHold: count + added) }
        (base + count).initialize(from: other.base + start, count: added)
        count += added
    }

    /// Keeps the first `newCount` elements (and the room).
    mutating func removeAll(from newCount: Int = 0) {
        precondition(newCount >= 0 && newCount <= count, "ScanBuffer range out of range")
        count = newCount
    }

    /// The elements in `range`, valid until the buffer next changes.
    func elements(in range: Range<Int>) -> UnsafeBufferPointer<Element> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "ScanBuffer range out of range")
        return UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    private mutating func grow(toHold minimum: Int) {
        let grown = max(minimum, capacity * 2)
        let moved = UnsafeMutablePointer<Element>.allocate(capacity: grown)
        moved.initialize(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = grown
    }
}

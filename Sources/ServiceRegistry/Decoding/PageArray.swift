#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable array in its own anonymous memory mapping, for large arrays written once: the
/// short-lived arrays of a parsed file, and the compiled answers' entries. Freed, such an array
/// goes straight back to the system: from malloc, a file's few large blocks were handed on to the
/// small, long-lived objects of the registry, and the heap grew around the holes (14 MB more peak
/// RSS on 50k Services). Reserving generously costs nothing until a page is written. Public and
/// `@inlinable` so that the answer table's compile (ClusterZones) appends through a specialized,
/// inlined call, not a generic one per byte (see `SortedRuns`).
public struct PageArray<Element: BitwiseCopyable>: ~Copyable {
    @usableFromInline var base: UnsafeMutablePointer<Element>
    @usableFromInline var capacity: Int
    @usableFromInline var storedCount = 0

    @inlinable public var count: Int { storedCount }

    @inlinable public init(reserving minimumCapacity: Int) {
        capacity = max(minimumCapacity, 4096 / MemoryLayout<Element>.stride)
        base = Self.map(capacity)
    }

    @inlinable deinit {
        Self.unmap(base, capacity)
    }

    @inlinable public subscript(index: Int) -> Element {
        precondition(index >= 0 && index < storedCount, "PageArray index out of range")
        return base[index]
    }

    @inlinable public var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: storedCount) }

    @inlinable public mutating func append(_ element: Element) {
        if storedCount == capacity { grow(to: capacity * 2) }
        base[storedCount] = element
        storedCount += 1
    }

    @inlinable public mutating func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress, !elements.isEmpty else { return }
        if storedCount + elements.count > capacity { grow(to: max(capacity * 2, storedCount + elements.count)) }
        (base + storedCount).update(from: source, count: elements.count)
        storedCount += elements.count
    }

    @inlinable mutating func removeLast(_ k: Int) {
        precondition(k >= 0 && k <= storedCount, "PageArray removes more than it holds")
        storedCount -= k
    }

    @inlinable mutating func grow(to newCapacity: Int) {
        let newBase = Self.map(newCapacity)
        newBase.update(from: base, count: storedCount)
        Self.unmap(base, capacity)
        base = newBase
        capacity = newCapacity
    }

    @inlinable static func map(_ capacity: Int) -> UnsafeMutablePointer<Element> {
        let size = capacity * MemoryLayout<Element>.stride
        #if canImport(Darwin)
        let flags = MAP_PRIVATE | MAP_ANON
        #else
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        #endif
        guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, flags, -1, 0), memory != MAP_FAILED else {
            fatalError("cannot map \(size) bytes")
        }
        return memory.bindMemory(to: Element.self, capacity: capacity)
    }

    @inlinable static func unmap(_ base: UnsafeMutablePointer<Element>, _ capacity: Int) {
        munmap(base, capacity * MemoryLayout<Element>.stride)
    }
}

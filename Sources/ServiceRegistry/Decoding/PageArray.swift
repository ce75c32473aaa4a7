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
/// RSS on 50k Services). Reserving generously costs nothing until a page is written.
package struct PageArray<Element: BitwiseCopyable>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    package private(set) var count = 0

    package init(reserving minimumCapacity: Int) {
        capacity = max(minimumCapacity, 4096 / MemoryLayout<Element>.stride)
        base = Self.map(capacity)
    }

    deinit {
        Self.unmap(base, capacity)
    }

    package subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "PageArray index out of range")
        return base[index]
    }

    package var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    package mutating func append(_ element: Element) {
        if count == capacity { grow(to: capacity * 2) }
        base[count] = element
        count += 1
    }

    package mutating func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress, !elements.isEmpty else { return }
        if count + elements.count > capacity { grow(to: max(capacity * 2, count + elements.count)) }
        (base + count).update(from: source, count: elements.count)
        count += elements.count
    }

    mutating func removeLast(_ k: Int) {
        precondition(k >= 0 && k <= count, "PageArray removes more than it holds")
        count -= k
    }

    private mutating func grow(to newCapacity: Int) {
        let newBase = Self.map(newCapacity)
        newBase.update(from: base, count: count)
        Self.unmap(base, capacity)
        base = newBase
        capacity = newCapacity
    }

    private static func map(_ capacity: Int) -> UnsafeMutablePointer<Element> {
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

    private static func unmap(_ base: UnsafeMutablePointer<Element>, _ capacity: Int) {
        munmap(base, capacity * MemoryLayout<Element>.stride)
    }
}

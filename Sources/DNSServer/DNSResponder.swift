import NIOCore

/// How a query arrived; it decides the response size limit (UDP truncates, TCP does not).
public enum DNSTransport: Sendable, Hashable {
    case udp
    case tcp
}

/// The one thing transports ask of the layers above: turn the bytes of one query into the bytes
/// of one response. The transport never knows what a Service is; the responder never sees a socket.
public protocol DNSResponder: Sendable {
    /// - Returns: the response message (without any TCP length prefix), or nil to drop the query
    ///   silently (unreadable header, or a message that is itself a response).
    func respond(to query: ByteBuffer, over transport: DNSTransport, allocator: ByteBufferAllocator) -> ByteBuffer?

    /// The allocation-free path for transports that own their buffers (the UDP batch engine):
    /// writes the response to `query` into `output` when it can be copied from bytes prepared
    /// earlier, and returns its length; nil means "call `respond(to:over:allocator:)`".
    func respond(to query: UnsafeRawBufferPointer, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> Int?

    /// Prefetching, for transports that read queries in batches: called for every query of a batch
    /// before any is answered, so the memory of all their answers is fetched at once instead of
    /// one cache miss after another. Hints only; they change no answer.
    /// - Returns: a token for `prefetchAnswer(token:)`, 0 for none.
    func prefetchAnswer(for query: UnsafeRawBufferPointer) -> Int
    /// The second step, with the token of the first, once every query of the batch had its first.
    func prefetchAnswer(token: Int)
}

extension DNSResponder {
    public func respond(to query: UnsafeRawBufferPointer, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> Int? {
        nil
    }

    public func prefetchAnswer(for query: UnsafeRawBufferPointer) -> Int { 0 }
    public func prefetchAnswer(token: Int) {}
}

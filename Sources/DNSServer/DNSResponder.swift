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

    /// The allocation-free path for transports that own their buffers and read queries in batches
    /// (the UDP batch engine): a view fixed for one batch, so per-query work reads no shared state.
    /// nil when the responder has no such path.
    func batchResponder() -> (any DNSBatchResponder)?
}

extension DNSResponder {
    public func batchResponder() -> (any DNSBatchResponder)? { nil }
}

/// Answers that can be copied from bytes prepared earlier, straight into a transport's buffers.
public protocol DNSBatchResponder {
    /// Writes the response to `query` into `output` and returns its length; nil means "call
    /// `DNSResponder.respond(to:over:allocator:)`".
    func respond(to query: UnsafeRawBufferPointer, over transport: DNSTransport, into output: UnsafeMutableRawBufferPointer) -> Int?

    /// Prefetching: called for every query of a batch before any is answered, so the memory of
    /// all their answers is fetched at once instead of one cache miss after another. Hints only.
    /// - Returns: a token for `prefetchAnswer(token:)`, 0 for none.
    func prefetchAnswer(for query: UnsafeRawBufferPointer) -> Int
    /// The second step, with the token of the first, once every query of the batch had its first.
    func prefetchAnswer(token: Int)
}

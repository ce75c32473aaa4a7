import NIOCore

/// Encodes one response spread over as many messages as it needs, as a zone transfer is (RFC 5936
/// §2.2): every message carries the query's ID, flags and question, and as many whole records as
/// fit in `maxSize`, with names compressed against the earlier names of the same message.
///
/// A transfer message holds thousands of names, so an earlier copy of a name is found in a table
/// of the suffixes written, not by the scan `WireWriter` does over the few names of one answer.
public struct StreamedResponseEncoder {
    private let header: DNSHeader
    private let question: DNSQuestion
    private let maxSize: Int
    private let allocator: ByteBufferAllocator
    private var message: ByteBuffer
    private var suffixes: [ArraySlice<UInt8>: Int] = [:]
    private var recordCount: UInt16 = 0

    /// - Parameters:
    ///   - header: the response header every message carries (its counts are set here).
    ///   - maxSize: the most bytes a message may take; at most 65535, what TCP's length can say.
    public init(header: DNSHeader, question: DNSQuestion, maxSize: Int = 65535, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.header = header
        self.question = question
        self.maxSize = min(maxSize, 65535)
        self.allocator = allocator
        self.message = allocator.buffer(capacity: 0)
        startMessage()
    }

    /// Adds `record` to the message being filled. When it does not fit there, that message is
    /// returned finished and the record starts the next one. A record too large for a message of
    /// its own (which no zone of ours has) is left out.
    public mutating func append(_ record: ResourceRecord) -> ByteBuffer? {
        let start = message.writerIndex
        withMessage { $0.writeRecord(record, into: &$1) }
        guard message.readableBytes > maxSize else {
            recordCount += 1
            return nil
        }
        message.moveWriterIndex(to: start)
        guard recordCount > 0 else {
            // Alone in a message and still too large.
            startMessage()
            return nil
        }
        let full = finishedMessage()
        startMessage()
        _ = append(record)
        return full
    }

    /// The last message, holding what was appended since the previous one was returned; nil when
    /// that is nothing.
    public mutating func finish() -> ByteBuffer? {
        guard recordCount > 0 else { return nil }
        let last = finishedMessage()
        startMessage()
        return last
    }

    private mutating func startMessage() {
        message = allocator.buffer(capacity: min(maxSize, 16 * 1024))
        suffixes.removeAll(keepingCapacity: true)
        recordCount = 0
        message.writeInteger(header.id)
        message.writeInteger(header.flags)
        message.writeInteger(UInt16(1))
        message.writeRepeatingByte(0, count: 6)
        let question = question
        withMessage { $0.writeName(question.name, into: &$1, compress: true) }
        message.writeInteger(question.type.rawValue)
        message.writeInteger(question.class.rawValue)
    }

    /// Runs `write` on the message taken out of `self`, so the name table and the bytes can be
    /// changed together (and the buffer, referenced once, is not copied).
    private mutating func withMessage(_ write: (inout Self, inout ByteBuffer) -> Void) {
        var buffer = message
        message = ByteBuffer()
        write(&self, &buffer)
        message = buffer
    }

    private func finishedMessage() -> ByteBuffer {
        var finished = message
        finished.setInteger(recordCount, at: finished.readerIndex + 6)
        return finished
    }
}

extension StreamedResponseEncoder: NameWriter {
    mutating func writeName(_ name: DNSName, into buffer: inout ByteBuffer, compress: Bool) {
        let wire = name.wire
        var index = 0
        while wire[index] != 0 {
            let suffix = wire[index...]
            if compress, let target = suffixes[suffix] {
                buffer.writeInteger(UInt16(0xc000 | target))
                return
            }
            let position = buffer.writerIndex - buffer.readerIndex
            if position < 0x3fff { suffixes[suffix] = position }
            let length = Int(wire[index])
            buffer.writeBytes(wire[index...(index + length)])
            index += 1 + length
        }
        buffer.writeInteger(UInt8(0))
    }
}

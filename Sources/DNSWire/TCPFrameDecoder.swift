import NIOCore

/// Splits a TCP stream into DNS messages by their two-byte big-endian length prefix (RFC 1035
/// section 4.2.2). A frame that is empty or longer than allowed is a protocol error that closes
/// the connection. Both ends use it: the server's TCP listener and the forwarder's upstream client.
public struct TCPFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Thrown for a frame the connection cannot go on after.
    public enum FrameError: Error, Equatable {
        case emptyFrame
        case frameTooLong(length: Int, limit: Int)
    }

    public let maxFrameLength: Int

    public init(maxFrameLength: Int = 65535) {
        self.maxFrameLength = maxFrameLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self).map(Int.init) else { return .needMoreData }
        guard length > 0 else { throw FrameError.emptyFrame }
        guard length <= maxFrameLength else { throw FrameError.frameTooLong(length: length, limit: maxFrameLength) }
        guard buffer.readableBytes >= 2 + length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: length)!))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame left at end of stream can never be answered; drop it.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

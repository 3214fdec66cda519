import NIOCore
import SwiftProtobuf

/// Splits a FrameRPC byte stream into `Frame` messages.
///
///     +----------------------------+---------------------------+
///     | length: UInt32 big-endian  | body: `length` bytes      |
///     +----------------------------+---------------------------+
///
/// A length of zero or above ``maximumFrameSize``, or a body that is not a
/// `Frame` with a kind, throws a ``ProtocolViolation`` before any more bytes
/// are buffered, so a peer can never make the receiver hold more than one
/// maximum-size frame. The length is checked as soon as its four bytes
/// arrive: "GET " from a stranger speaking HTTP fails at once.
///
/// The connection handlers run it themselves
/// (`NIOSingleStepByteToMessageProcessor`) on the bytes they read, instead
/// of a `ByteToMessageHandler` in front of them: a decoded frame then goes
/// to its handler as a plain value, without a pipeline step that boxes it
/// into `NIOAny` and casts it back for every frame.
struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = InboundFrame

    let maximumFrameSize: Int

    init(maximumFrameSize: Int) {
        self.maximumFrameSize = maximumFrameSize
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> InboundFrame? {
        try Self.nextInboundFrame(from: &buffer, maximumFrameSize: maximumFrameSize)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> InboundFrame? {
        // A truncated frame before the close is dropped with the connection.
        try Self.nextInboundFrame(from: &buffer, maximumFrameSize: maximumFrameSize)
    }

    /// The next whole frame in `buffer`, consuming it, or `nil` if more
    /// bytes are needed: decoded by ``FrameParser``, or by swift-protobuf
    /// where the parser leaves the body to it.
    static func nextInboundFrame(from buffer: inout ByteBuffer, maximumFrameSize: Int) throws -> InboundFrame? {
        guard let body = try nextBody(from: &buffer, maximumFrameSize: maximumFrameSize) else { return nil }
        if let frame = FrameParser.parse(body) { return frame }
        guard let frame = InboundFrame(try decodeWithProtobuf(body)) else { throw ProtocolViolation.emptyFrame }
        return frame
    }

    /// The next whole frame in `buffer` decoded by swift-protobuf alone,
    /// consuming it, or `nil` if more bytes are needed. The reference the
    /// hand decoder is tested against, and what tests read frames with.
    static func nextFrame(from buffer: inout ByteBuffer, maximumFrameSize: Int) throws -> Framerpc_V1_Frame? {
        guard let body = try nextBody(from: &buffer, maximumFrameSize: maximumFrameSize) else { return nil }
        let frame = try decodeWithProtobuf(body)
        guard frame.kind != nil else { throw ProtocolViolation.emptyFrame }
        return frame
    }

    /// The next frame's body, its length checked as soon as the length
    /// prefix is there.
    private static func nextBody(from buffer: inout ByteBuffer, maximumFrameSize: Int) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
            return nil
        }
        guard length > 0, length <= maximumFrameSize else {
            throw ProtocolViolation.frameLength(length, maximum: maximumFrameSize)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))!
    }

    private static func decodeWithProtobuf(_ body: ByteBuffer) throws -> Framerpc_V1_Frame {
        do {
            return try Framerpc_V1_Frame(serializedBytes: body.readableBytesSpan)
        } catch {
            throw ProtocolViolation.malformedFrame
        }
    }
}

import NIOCore
import SwiftProtobuf

/// A serialized message in a buffer with room in front of it for a frame's
/// envelope, so a message is serialized once, straight into the buffer the
/// socket writes: `try message.serializedBytes() as FramePayload`.
///
///     +-----------------------------+--------------------+---------------+
///     | headroom (envelope goes     | the message bytes  | later fields  |
///     | here, right-aligned)        | (readable)         | (appended)    |
///     +-----------------------------+--------------------+---------------+
///
/// The envelope's length depends on the message's, so it is written last,
/// into the headroom just before the message, by the functions of
/// ``OutboundFrame``; ``headroom`` is enough for the longest one.
struct FramePayload: SwiftProtobufContiguousBytes, Sendable {
    /// Length prefix (4) + call id (1 + 10) + kind (1 + 5) + status (2)
    /// + payload field (1 + 5) = 29 at most.
    static let headroom = 32

    /// Readable: the message bytes; `headroom` bytes before the reader index.
    private(set) var buffer: ByteBuffer

    init(repeating byte: UInt8, count: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: Self.headroom + count)
        buffer.writeRepeatingByte(0, count: Self.headroom)
        buffer.moveReaderIndex(forwardBy: Self.headroom)
        buffer.writeRepeatingByte(byte, count: count)
    }

    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        self.init(repeating: 0, count: 0)
        buffer.writeBytes(sequence)
    }

    var count: Int { buffer.readableBytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}

/// Builds outbound frames around a ``FramePayload`` in place.
enum OutboundFrame {
    /// `Frame{call_id, response: Response{status: {}, payload, trailers}}`:
    /// an OK answer, the payload where it was serialized.
    static func okResponse(callID: UInt64, payload: FramePayload, trailers: [String: String]) -> ByteBuffer {
        var buffer = payload.buffer
        let payloadLength = buffer.readableBytes
        let start = buffer.writerIndex
        for (key, value) in trailers { buffer.writeMapEntry(field: 3, key: key, value: value) }
        let trailersLength = buffer.writerIndex - start
        // Response: status (0A 00), payload (12 len bytes) when not empty, trailers.
        let payloadField = payloadLength > 0 ? 1 + ByteBuffer.varintSize(UInt64(payloadLength)) + payloadLength : 0
        let responseLength = 2 + payloadField + trailersLength
        var prefix = Prefix(buffer: buffer)
        if payloadLength > 0 {
            prefix.prepend(varint: UInt64(payloadLength))
            prefix.prepend(byte: 0x12)
        }
        prefix.prepend(byte: 0x00)
        prefix.prepend(byte: 0x0A)
        return prefix.finish(callID: callID, kind: .response, kindLength: responseLength)
    }

    /// `Frame{call_id, message: Message{payload}}`: one streamed message.
    static func message(callID: UInt64, payload: FramePayload) -> ByteBuffer {
        let payloadLength = payload.count
        let payloadField = payloadLength > 0 ? 1 + ByteBuffer.varintSize(UInt64(payloadLength)) + payloadLength : 0
        var prefix = Prefix(buffer: payload.buffer)
        if payloadLength > 0 {
            prefix.prepend(varint: UInt64(payloadLength))
            prefix.prepend(byte: 0x0A)
        }
        return prefix.finish(callID: callID, kind: .message, kindLength: payloadField)
    }

    /// A `Request` body whose payload (field 4) comes first, the method,
    /// budget and metadata after it (protobuf fields may come in any
    /// order); ``request(callID:body:)`` puts the envelope around it once
    /// the call id is known.
    static func requestBody(
        payload: FramePayload,
        method: String,
        timeoutMicros: UInt64,
        metadata: [String: String]
    ) -> RequestBody {
        var buffer = payload.buffer
        let payloadLength = buffer.readableBytes
        buffer.writeLengthDelimited(field: 1, string: method)
        if timeoutMicros > 0 {
            buffer.writeInteger(UInt8(0x10))
            buffer.writeVarint(timeoutMicros)
        }
        for (key, value) in metadata { buffer.writeMapEntry(field: 3, key: key, value: value) }
        return RequestBody(buffer: buffer, payloadLength: payloadLength)
    }

    /// `Frame{call_id, request: Request{...}}` around a prepared body.
    static func request(callID: UInt64, body: RequestBody) -> ByteBuffer {
        let payloadLength = body.payloadLength
        let payloadField = payloadLength > 0 ? 1 + ByteBuffer.varintSize(UInt64(payloadLength)) : 0
        let requestLength = payloadField + body.buffer.readableBytes
        var prefix = Prefix(buffer: body.buffer)
        if payloadLength > 0 {
            prefix.prepend(varint: UInt64(payloadLength))
            prefix.prepend(byte: 0x22)
        }
        return prefix.finish(callID: callID, kind: .request, kindLength: requestLength)
    }

    /// Writes an envelope backwards into the headroom before the reader index.
    private struct Prefix {
        var buffer: ByteBuffer
        var index: Int

        init(buffer: ByteBuffer) {
            self.buffer = buffer
            index = buffer.readerIndex
        }

        mutating func prepend(byte: UInt8) {
            index -= 1
            buffer.setInteger(byte, at: index)
        }

        mutating func prepend(varint value: UInt64) {
            let size = ByteBuffer.varintSize(value)
            index -= size
            var value = value
            var at = index
            while value >= 0x80 {
                buffer.setInteger(UInt8(truncatingIfNeeded: value) | 0x80, at: at)
                value >>= 7
                at += 1
            }
            buffer.setInteger(UInt8(value), at: at)
        }

        /// Adds kind tag, kind length, call id and length prefix; returns the frame.
        mutating func finish(callID: UInt64, kind: FrameKindTag, kindLength: Int) -> ByteBuffer {
            prepend(varint: UInt64(kindLength))
            prepend(byte: kind.rawValue)
            if callID != 0 {
                prepend(varint: callID)
                prepend(byte: 0x08)
            }
            let bodyLength = buffer.writerIndex - index
            index -= 4
            buffer.setInteger(UInt32(bodyLength), at: index)
            buffer.moveReaderIndex(to: index)
            return buffer
        }
    }
}

/// A `Request` body built in the calling task; see ``OutboundFrame/requestBody(payload:method:timeoutMicros:metadata:)``.
struct RequestBody: Sendable {
    /// Readable: the payload bytes, then the other fields; headroom before.
    var buffer: ByteBuffer
    var payloadLength: Int

    /// The body's size once framed, for the frame size limit.
    var encodedSize: Int { buffer.readableBytes + 1 + ByteBuffer.varintSize(UInt64(payloadLength)) }
}

extension ByteBuffer {
    mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        writeInteger(UInt8(value))
    }

    mutating func writeLengthDelimited(field: UInt8, string: String) {
        writeInteger(field << 3 | 2)
        writeVarint(UInt64(string.utf8.count))
        writeString(string)
    }

    /// One `map<string, string>` entry as field `field`: key 1, value 2.
    mutating func writeMapEntry(field: UInt8, key: String, value: String) {
        let keyLength = key.utf8.count
        let valueLength = value.utf8.count
        let entryLength = 1 + Self.varintSize(UInt64(keyLength)) + keyLength + 1 + Self.varintSize(UInt64(valueLength)) + valueLength
        writeInteger(field << 3 | 2)
        writeVarint(UInt64(entryLength))
        writeInteger(UInt8(0x0A))
        writeVarint(UInt64(keyLength))
        writeString(key)
        writeInteger(UInt8(0x12))
        writeVarint(UInt64(valueLength))
        writeString(value)
    }
}

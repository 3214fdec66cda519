import NIOCore
import SwiftProtobuf

/// The field tags of `framerpc.v1.Frame`'s kinds, as written on the wire
/// (field number << 3 | wire type 2, length-delimited).
enum FrameKindTag: UInt8 {
    case request = 0x12
    case message = 0x1A
    case halfClose = 0x22
    case response = 0x2A
    case cancel = 0x32
    case ping = 0x3A
    case pong = 0x42
    case goAway = 0x4A
    case settings = 0x52
}

extension ByteBuffer {
    /// Writes one length-prefixed frame whose kind is an already serialized
    /// message, without building and re-encoding a `Frame`.
    ///
    /// The bytes are exactly what encoding `Frame{call_id, <kind>: body}`
    /// with any protobuf library gives (fields in number order, `call_id`
    /// omitted when 0), so the hot path pays for one serialization of the
    /// inner message and nothing else.
    mutating func writeFrame(callID: UInt64, kind: FrameKindTag, body: [UInt8]) {
        var length = 1 + Self.varintSize(UInt64(body.count)) + body.count
        if callID != 0 { length += 1 + Self.varintSize(callID) }
        reserveCapacity(minimumWritableBytes: 4 + length)
        writeInteger(UInt32(length))
        if callID != 0 {
            writeInteger(UInt8(0x08))
            writeVarint(callID)
        }
        writeInteger(kind.rawValue)
        writeVarint(UInt64(body.count))
        writeBytes(body)
    }

    /// Writes a whole `Frame`, length prefix first.
    mutating func writeFrame(_ frame: Framerpc_V1_Frame) {
        // Serializing a message we built ourselves cannot fail.
        let bytes: [UInt8] = try! frame.serializedBytes()
        writeInteger(UInt32(bytes.count))
        writeBytes(bytes)
    }

    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }
}

extension Framerpc_V1_Frame {
    static func goAway(lastCallID: UInt64, code: UInt32, message: String) -> Self {
        var frame = Self()
        frame.goAway = .with {
            $0.lastCallID = lastCallID
            $0.code = code
            $0.message = message
        }
        return frame
    }

    static func ping(_ opaque: UInt64) -> Self {
        var frame = Self()
        frame.ping = .with { $0.opaque = opaque }
        return frame
    }

    static func settings(maximumConcurrentCalls: Int) -> Self {
        var frame = Self()
        frame.settings = .with { $0.maxConcurrentCalls = UInt32(clamping: maximumConcurrentCalls) }
        return frame
    }

    static func pong(_ opaque: UInt64) -> Self {
        var frame = Self()
        frame.pong = .with { $0.opaque = opaque }
        return frame
    }

    /// The name of the frame's kind, for errors and logs.
    var kindName: String {
        switch kind {
        case .request: "Request"
        case .message: "Message"
        case .halfClose: "HalfClose"
        case .response: "Response"
        case .cancel: "Cancel"
        case .ping: "Ping"
        case .pong: "Pong"
        case .goAway: "GoAway"
        case .settings: "Settings"
        case nil: "empty"
        }
    }
}

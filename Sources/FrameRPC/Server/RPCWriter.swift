import Foundation
import NIOCore
import SwiftProtobuf

/// Where a server-streaming handler writes its responses.
///
/// Each `write` returns once the message has been handed to the socket, so a
/// handler that writes faster than the client reads is slowed down rather
/// than buffered without bound. Writing after the call ended (cancelled, or
/// past its deadline) throws CANCELLED.
public struct RPCWriter<Response: SwiftProtobuf.Message>: Sendable {
    let sink: StreamSink

    public func write(_ response: Response) async throws {
        // Serialized straight into the buffer its Message frame goes out in.
        let bytes: FramePayload = try response.serializedBytes()
        try await sink.write(bytes)
    }
}

/// The untyped side of ``RPCWriter``: one call's `Message` frames.
struct StreamSink: Sendable {
    let connection: ServerConnectionHandle
    let callID: UInt64

    func write(_ payload: FramePayload) async throws {
        try await connection.writeMessage(callID: callID, frame: OutboundFrame.message(callID: callID, payload: payload))
    }
}

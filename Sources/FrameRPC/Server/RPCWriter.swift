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
        try await sink.write(try response.serializedBytes())
    }
}

/// The untyped side of ``RPCWriter``: one call's `Message` frames.
struct StreamSink: Sendable {
    let connection: ServerConnectionHandle
    let callID: UInt64

    func write(_ payload: [UInt8]) async throws {
        var message = Framerpc_V1_Message()
        message.payload = Data(payload)
        let body: [UInt8] = try message.serializedBytes()
        var buffer = connection.allocator.buffer(capacity: body.count + 16)
        buffer.writeFrame(callID: callID, kind: .message, body: body)
        try await connection.writeMessage(callID: callID, frame: buffer)
    }
}

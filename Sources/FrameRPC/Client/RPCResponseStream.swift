import Foundation
import NIOCore
import SwiftProtobuf

/// The responses of a server-streaming call, in order. Iteration ends when
/// the server ends the call with OK and throws the ``RPCError`` it ended
/// with otherwise.
public struct RPCResponseStream<Element: SwiftProtobuf.Message>: AsyncSequence, Sendable {
    let messages: AsyncThrowingStream<ByteBuffer, any Error>
    let flow: StreamFlow?

    /// Messages read from the connection that this stream has not handed
    /// out yet; at most ``RPCClient/Configuration-swift.struct/streamBufferHighWatermark``
    /// plus what the socket read cycle that crossed it held (at most 256 KiB).
    var bufferedMessages: Int { flow?.bufferedMessages ?? 0 }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
        let flow: StreamFlow?

        public mutating func next() async throws -> Element? {
            guard let payload = try await base.next() else { return nil }
            flow?.consumed()
            do {
                return try Element(serializedBytes: payload.readableBytesSpan)
            } catch {
                throw RPCError(code: .internal, message: "response message is not a valid \(Element.protoMessageName)")
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: messages.makeAsyncIterator(), flow: flow)
    }
}

import Foundation
import SwiftProtobuf

/// The responses of a server-streaming call, in order. Iteration ends when
/// the server ends the call with OK and throws the ``RPCError`` it ended
/// with otherwise.
public struct RPCResponseStream<Element: SwiftProtobuf.Message>: AsyncSequence, Sendable {
    let messages: AsyncThrowingStream<Data, any Error>

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Data, any Error>.AsyncIterator

        public mutating func next() async throws -> Element? {
            guard let payload = try await base.next() else { return nil }
            do {
                return try Element(serializedBytes: payload)
            } catch {
                throw RPCError(code: .internal, message: "response message is not a valid \(Element.protoMessageName)")
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: messages.makeAsyncIterator())
    }
}

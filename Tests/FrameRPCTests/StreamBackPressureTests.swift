@testable import FrameRPC
import Foundation
import SwiftProtobuf
import Synchronization
import Testing

/// How many stream messages the server's handler has written.
private final class WriteCounter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// A server-streaming method that writes as fast as the connection lets it,
/// counting the writes that returned.
private struct FloodService: RPCService {
    static let flood = "/test.v1.Flood/Flood"
    static let echo = "/test.v1.Flood/Echo"
    static let messageSize = 4 * 1024

    let written: WriteCounter

    func registerMethods(with router: inout RPCRouter) {
        let written = self.written
        router.registerServerStreaming(Self.flood) { (request: Google_Protobuf_Int64Value, writer: RPCWriter<Google_Protobuf_BytesValue>, _) in
            let message = Google_Protobuf_BytesValue.with { $0.value = Data(repeating: 0x5A, count: Self.messageSize) }
            for _ in 0..<request.value {
                try await writer.write(message)
                written.add()
            }
        }
        router.registerUnary(Self.echo) { (request: Google_Protobuf_StringValue, _) in request }
    }
}

/// Client back-pressure on server streaming, over real TCP on 127.0.0.1:
/// a consumer that falls behind stops the connection reading, so neither
/// the client's buffer nor the server's work runs ahead without bound.
@Suite("Server-streaming back-pressure")
struct StreamBackPressureTests {
    /// 40 MB in all: far more than the loopback socket buffers hold.
    static let total = 10_000
    static let high = 32
    static let low = 8
    /// One socket read cycle (NIO: up to 4 reads of at most 64 KiB) may
    /// hold this many more messages than the watermark when reading stops.
    static let slack = 4 * 64 * 1024 / FloodService.messageSize

    private func withFloodServer<Result: Sendable>(
        _ body: (RPCClient, WriteCounter) async throws -> Result
    ) async throws -> Result {
        let written = WriteCounter()
        let server = RPCServer(services: [FloodService(written: written)])
        return try await withRunningServer(server) { port in
            var configuration = RPCClient.Configuration()
            configuration.streamBufferHighWatermark = Self.high
            configuration.streamBufferLowWatermark = Self.low
            let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
            defer { client.shutdown() }
            return try await body(client, written)
        }
    }

    @Test("a consumer that stops reading bounds the messages buffered at the client and stalls the server")
    func slowConsumerBoundsBuffer() async throws {
        try await withFloodServer { client, written in
            let (received, bufferedWhileBehind, writtenWhileBehind, mostBuffered) = try await client.serverStreaming(
                method: FloodService.flood,
                request: Google_Protobuf_Int64Value.with { $0.value = Int64(Self.total) },
                response: Google_Protobuf_BytesValue.self
            ) { stream in
                var iterator = stream.makeAsyncIterator()
                _ = try await iterator.next()
                // Behind: take nothing for a while; the server keeps writing.
                try await Task.sleep(for: .milliseconds(500))
                let bufferedWhileBehind = stream.bufferedMessages
                let writtenWhileBehind = written.value
                var received = 1
                var mostBuffered = bufferedWhileBehind
                while try await iterator.next() != nil {
                    received += 1
                    mostBuffered = max(mostBuffered, stream.bufferedMessages)
                }
                return (received, bufferedWhileBehind, writtenWhileBehind, mostBuffered)
            }
            #expect(received == Self.total)
            #expect(bufferedWhileBehind <= Self.high + Self.slack, "buffered \(bufferedWhileBehind) while the consumer was behind")
            #expect(mostBuffered <= Self.high + Self.slack, "buffered up to \(mostBuffered)")
            #expect(writtenWhileBehind < Self.total / 2, "the server wrote \(writtenWhileBehind) of \(Self.total) while the consumer took nothing")
        }
    }

    @Test("while a consumer is behind, other calls on the connection wait; they complete once it catches up")
    func pausedConnectionHoldsOtherCalls() async throws {
        try await withFloodServer { client, _ in
            try await client.serverStreaming(
                method: FloodService.flood,
                request: Google_Protobuf_Int64Value.with { $0.value = Int64(Self.total) },
                response: Google_Protobuf_BytesValue.self
            ) { stream in
                var iterator = stream.makeAsyncIterator()
                _ = try await iterator.next()
                try await Task.sleep(for: .milliseconds(300))
                // The connection is not being read: an answer cannot arrive.
                let blocked = await rpcError {
                    _ = try await client.unary(
                        method: FloodService.echo,
                        request: Google_Protobuf_StringValue.with { $0.value = "waiting" },
                        response: Google_Protobuf_StringValue.self,
                        options: CallOptions(timeout: .milliseconds(300))
                    )
                }
                #expect(blocked?.code == .deadlineExceeded)
                while try await iterator.next() != nil {}
            }
            let answer = try await client.unary(
                method: FloodService.echo,
                request: Google_Protobuf_StringValue.with { $0.value = "after" },
                response: Google_Protobuf_StringValue.self
            )
            #expect(answer.value == "after")
        }
    }
}

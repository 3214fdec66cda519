import FrameRPC
import Foundation
import SwiftProtobuf
import Testing

@Suite("Server streaming")
struct ServerStreamingTests {
    @Test("every streamed message arrives in order, then the stream ends")
    func messagesInOrder() async throws {
        try await withTestServer { client, _ throws in
            let received = try await client.serverStreaming(
                method: FixtureService.count,
                request: Google_Protobuf_Int64Value.with { $0.value = 200 },
                response: Google_Protobuf_StringValue.self
            ) { stream in
                try await stream.reduce(into: [String]()) { $0.append($1.value) }
            }
            #expect(received == (0..<200).map { "\($0)" })
        }
    }

    @Test("a stream of zero messages ends at once")
    func emptyStream() async throws {
        try await withTestServer { client, _ throws in
            let count = try await client.serverStreaming(
                method: FixtureService.count,
                request: Google_Protobuf_Int64Value.with { $0.value = 0 },
                response: Google_Protobuf_StringValue.self
            ) { stream in try await stream.reduce(0) { count, _ in count + 1 } }
            #expect(count == 0)
        }
    }

    @Test("leaving the stream early cancels the handler on the server")
    func leavingEarlyCancelsHandler() async throws {
        let probe = HandlerProbe()
        try await withTestServer(probe: probe) { client, _ throws in
            let firstThree = try await client.serverStreaming(
                method: FixtureService.forever,
                request: Google_Protobuf_Int64Value(),
                response: Google_Protobuf_StringValue.self
            ) { stream in
                var seen: [String] = []
                for try await message in stream {
                    seen.append(message.value)
                    if seen.count == 3 { break }
                }
                return seen
            }
            #expect(firstThree == ["0", "1", "2"])
            #expect(await probe.wait(for: "forever cancelled"))
            #expect(try await client.echo("after") == "after")
        }
    }

    @Test("a stream past its deadline fails with DEADLINE_EXCEEDED")
    func streamDeadline() async throws {
        try await withTestServer { client, _ throws in
            let error = await rpcError {
                _ = try await client.serverStreaming(
                    method: FixtureService.forever,
                    request: Google_Protobuf_Int64Value(),
                    response: Google_Protobuf_StringValue.self,
                    options: CallOptions(timeout: .milliseconds(200))
                ) { stream in try await stream.reduce(0) { count, _ in count + 1 } }
            }
            #expect(error?.code == .deadlineExceeded)
        }
    }
}

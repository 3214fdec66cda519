import FrameRPC
import Foundation
import SwiftProtobuf
import Testing

@Suite("Cancellation")
struct CancellationTests {
    @Test("cancelling the calling task fails the call with CANCELLED and cancels the handler")
    func cancellationReachesHandler() async throws {
        let probe = HandlerProbe()
        try await withTestServer(probe: probe) { client, _ throws in
            let call = Task {
                try await client.unary(
                    method: FixtureService.slow,
                    request: Google_Protobuf_Int64Value.with { $0.value = 10_000 },
                    response: Google_Protobuf_Int64Value.self
                )
            }
            #expect(await probe.wait(for: "slow started"))
            call.cancel()
            let error = await rpcError { _ = try await call.value }
            #expect(error?.code == .cancelled)
            #expect(await probe.wait(for: "slow cancelled"))
            #expect(try await client.echo("next") == "next")
        }
    }

    @Test("a task cancelled before calling sends nothing")
    func cancelledBeforeCalling() async throws {
        let probe = HandlerProbe()
        try await withTestServer(probe: probe) { client, _ throws in
            let call = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.unary(
                    method: FixtureService.slow,
                    request: Google_Protobuf_Int64Value.with { $0.value = 1 },
                    response: Google_Protobuf_Int64Value.self
                )
            }
            let error = await rpcError { _ = try await call.value }
            #expect(error?.code == .cancelled)
            #expect(try await client.echo("next") == "next")
            #expect(!probe.recorded.contains("slow started"))
        }
    }
}

@testable import FrameRPC
import Foundation
import SwiftProtobuf
import NIOCore
import NIOPosix
import Testing

@Suite("Deadlines")
struct DeadlineTests {
    @Test("a slow handler fails the call with DEADLINE_EXCEEDED at the client's deadline, and the handler is cancelled")
    func clientDeadline() async throws {
        let probe = HandlerProbe()
        try await withTestServer(probe: probe) { client, _ throws in
            let start = ContinuousClock.now
            let error = await rpcError {
                _ = try await client.unary(
                    method: FixtureService.slow,
                    request: Google_Protobuf_Int64Value.with { $0.value = 10_000 },
                    response: Google_Protobuf_Int64Value.self,
                    options: CallOptions(timeout: .milliseconds(1_000))
                )
            }
            let elapsed = ContinuousClock.now - start
            #expect(error?.code == .deadlineExceeded)
            #expect(elapsed >= .milliseconds(1_000) && elapsed < .seconds(5))
            #expect(probe.recorded.contains("slow started"))
            #expect(await probe.wait(for: "slow cancelled"))
            #expect(!probe.recorded.contains("slow finished"))
        }
    }

    @Test("the server answers DEADLINE_EXCEEDED on time even when the handler ignores cancellation")
    func serverDeadline() async throws {
        let probe = HandlerProbe()
        try await withTestServer(probe: probe) { _, port throws in
            let connection = try await RawFrameConnection.connect(port: port)
            var request = Framerpc_V1_Request()
            request.method = FixtureService.stubborn
            request.timeoutMicros = 150_000
            request.payload = try Google_Protobuf_Int64Value.with { $0.value = 3_000 }.serializedData()
            let start = ContinuousClock.now
            try await connection.send(callID: 1, request: request)
            let frame = try await connection.nextFrame(timeout: .seconds(3))
            let elapsed = ContinuousClock.now - start
            #expect(frame?.callID == 1)
            #expect(frame?.response.status.code == RPCError.Code.deadlineExceeded.rawValue)
            // Answered at its deadline, long before the handler's 3 s are up.
            #expect(elapsed >= .milliseconds(150) && elapsed < .milliseconds(2_500))
            // The stubborn handler's own late answer is never sent.
            #expect(await probe.wait(for: "stubborn finished", timeout: .seconds(10)))
            #expect(try await connection.nextFrame(timeout: .milliseconds(200)) == nil)
            await connection.close()
        }
    }

    @Test("a call whose budget is already spent is not sent")
    func spentBudgetNotSent() async throws {
        let probe = HandlerProbe()
        try await withTestServer(probe: probe) { client, _ throws in
            let error = await rpcError {
                _ = try await client.unary(
                    method: FixtureService.slow,
                    request: Google_Protobuf_Int64Value.with { $0.value = 1 },
                    response: Google_Protobuf_Int64Value.self,
                    options: CallOptions(deadline: .now - .milliseconds(1))
                )
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(!probe.recorded.contains("slow started"))
        }
    }

    @Test("a handler's outgoing calls inherit its remaining deadline and request id")
    func propagationThroughMiddleService() async throws {
        // third: reports the budget it was given; middle: relays to third.
        let third = RPCServer(services: [FixtureService()])
        try await withRunningServer(third) { thirdPort throws in
            let downstream = RPCClient(host: "127.0.0.1", port: thirdPort)
            defer { downstream.shutdown() }
            let middle = RPCServer(services: [RelayService(downstream: downstream)])
            try await withRunningServer(middle) { middlePort throws in
                let client = RPCClient(host: "127.0.0.1", port: middlePort)
                defer { client.shutdown() }
                let budget = try await client.unary(
                    method: RelayService.relayBudget,
                    request: Google_Protobuf_Int64Value.with { $0.value = 100 },
                    response: Google_Protobuf_Int64Value.self,
                    options: CallOptions(timeout: .milliseconds(5_000))
                )
                // The middle service slept 100 ms of the 5,000 before calling on.
                #expect(budget.value > 0 && budget.value <= 4_900)

                let requestID = try await client.unary(
                    method: RelayService.relayRequestID,
                    request: Google_Protobuf_StringValue(),
                    response: Google_Protobuf_StringValue.self,
                    options: CallOptions(metadata: [Metadata.ReservedKey.requestID: "req-42"])
                )
                #expect(requestID.value == "req-42")

                let spent = await rpcError {
                    _ = try await client.unary(
                        method: RelayService.relayBudget,
                        request: Google_Protobuf_Int64Value.with { $0.value = 400 },
                        response: Google_Protobuf_Int64Value.self,
                        options: CallOptions(timeout: .milliseconds(300))
                    )
                }
                #expect(spent?.code == .deadlineExceeded)
            }
        }
    }
}

/// A middle service: sleeps, then calls the third service with no options of
/// its own, so all it passes on is inherited.
struct RelayService: RPCService {
    static let relayBudget = "/test.v1.Relay/RelayBudget"
    static let relayRequestID = "/test.v1.Relay/RelayRequestID"

    let downstream: RPCClient

    func registerMethods(with router: inout RPCRouter) {
        let downstream = downstream
        router.registerUnary(Self.relayBudget) { (request: Google_Protobuf_Int64Value, _) -> Google_Protobuf_Int64Value in
            try await Task.sleep(for: .milliseconds(request.value))
            return try await downstream.unary(method: FixtureService.remainingBudget, request: Google_Protobuf_Int64Value(), response: Google_Protobuf_Int64Value.self)
        }
        router.registerUnary(Self.relayRequestID) { (_: Google_Protobuf_StringValue, _) -> Google_Protobuf_StringValue in
            try await downstream.unary(
                method: FixtureService.metadataValue,
                request: Google_Protobuf_StringValue.with { $0.value = Metadata.ReservedKey.requestID },
                response: Google_Protobuf_StringValue.self
            )
        }
    }
}

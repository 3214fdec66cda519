import FrameRPC
import Foundation
import SwiftProtobuf
import Testing

@Suite("Unary calls")
struct UnaryCallTests {
    @Test("a request comes back as its response")
    func roundTrip() async throws {
        try await withTestServer { client, _ throws in
            #expect(try await client.echo("hello") == "hello")
        }
    }

    @Test("1,000 concurrent calls on one connection each get their own answer")
    func thousandConcurrentCalls() async throws {
        try await withTestServer(configuration: .init(maximumConcurrentCallsPerConnection: 1_000)) { client, _ throws in
            let mismatches = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<1_000 {
                    group.addTask { try await client.echo("call \(index)") == "call \(index)" }
                }
                return try await group.reduce(0) { $0 + ($1 ? 0 : 1) }
            }
            #expect(mismatches == 0)
        }
    }

    @Test("a status thrown by a handler reaches the caller with its code and message")
    func handlerStatus() async throws {
        try await withTestServer { client, _ throws in
            let error = await rpcError {
                _ = try await client.unary(method: FixtureService.fail, request: Google_Protobuf_StringValue.with { $0.value = "out of stock" }, response: Google_Protobuf_StringValue.self)
            }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message == "out of stock")
        }
    }

    @Test("an unknown method is UNIMPLEMENTED and the connection goes on serving")
    func unknownMethod() async throws {
        try await withTestServer { client, _ throws in
            let error = await rpcError {
                _ = try await client.unary(method: "/test.v1.Test/Nope", request: Google_Protobuf_StringValue(), response: Google_Protobuf_StringValue.self)
            }
            #expect(error?.code == .unimplemented)
            #expect(try await client.echo("still here") == "still here")
        }
    }

    @Test("metadata set in the call options reaches the handler")
    func metadataReachesHandler() async throws {
        try await withTestServer { client, _ throws in
            let options = CallOptions(metadata: ["x-tenant": "acme"])
            let seen = try await client.unary(
                method: FixtureService.metadataValue,
                request: Google_Protobuf_StringValue.with { $0.value = "x-tenant" },
                response: Google_Protobuf_StringValue.self,
                options: options
            )
            #expect(seen.value == "acme")
        }
    }

    @Test("oversized metadata fails locally with RESOURCE_EXHAUSTED")
    func oversizedMetadataRefusedByClient() async throws {
        try await withTestServer { client, _ throws in
            let options = CallOptions(metadata: ["big": String(repeating: "x", count: 9_000)])
            let error = await rpcError { _ = try await client.echo("x", options: options) }
            #expect(error?.code == .resourceExhausted)
        }
    }
}

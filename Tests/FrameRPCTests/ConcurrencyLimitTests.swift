@testable import FrameRPC
import Foundation
import SwiftProtobuf
import Testing

/// PROTOCOL.md section 8: the server tells the client its per-connection
/// concurrency limit, the client never exceeds it, and the server still
/// refuses a client that does.
@Suite("Concurrency limit over the wire")
struct ConcurrencyLimitTests {
    static func limited(_ limit: Int, announcing: Bool = true) -> RPCServer.Configuration {
        var configuration = RPCServer.Configuration(maximumConcurrentCallsPerConnection: limit)
        configuration.announcesConcurrencyLimit = announcing
        return configuration
    }

    static func slow(_ milliseconds: Int64) -> Google_Protobuf_Int64Value {
        .with { $0.value = milliseconds }
    }

    /// `count` slow calls at once on `client`'s one connection; the errors (nil: OK).
    static func pipeline(_ count: Int, on client: RPCClient, milliseconds: Int64 = 10, timeout: Duration = .seconds(60)) async -> [RPCError?] {
        await withTaskGroup(of: RPCError?.self) { group in
            for _ in 0..<count {
                group.addTask {
                    await rpcError {
                        _ = try await client.unary(method: FixtureService.slow, request: slow(milliseconds), response: Google_Protobuf_Int64Value.self, options: CallOptions(timeout: timeout))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test("1,000 calls pipelined on one connection against a server whose limit is 64 all complete OK")
    func pipelinedCallsQueue() async throws {
        try await withTestServer(configuration: Self.limited(64)) { client, _ in
            let errors = await Self.pipeline(1_000, on: client)
            #expect(errors.count == 1_000)
            #expect(errors.allSatisfy { $0 == nil }, "\(errors.compactMap { $0 }.prefix(3))")
        }
    }

    @Test("a new client against a server that never sends Settings works, within the default limit")
    func oldServer() async throws {
        try await withTestServer(configuration: Self.limited(256, announcing: false)) { client, _ in
            let errors = await Self.pipeline(400, on: client)
            #expect(errors.allSatisfy { $0 == nil }, "\(errors.compactMap { $0 }.prefix(3))")
        }
    }

    @Test("the opt-in Ping is answered with Settings, then the Pong; any other Ping only with the Pong")
    func settingsBeforePong() async throws {
        try await withTestServer(configuration: Self.limited(64)) { _, port in
            let old = try await RawFrameConnection.connect(port: port)
            try await old.send(.ping(7))
            let oldFirst = try await old.nextFrame(timeout: .seconds(5))
            #expect(oldFirst?.pong.opaque == 7)
            #expect(try await old.nextFrame(timeout: .milliseconds(200)) == nil)
            await old.close()

            let new = try await RawFrameConnection.connect(port: port)
            try await new.send(.ping(ConcurrencySettings.optInOpaque))
            let settings = try await new.nextFrame(timeout: .seconds(5))
            #expect(settings?.settings.maxConcurrentCalls == 64)
            #expect(settings?.callID == 0)
            let pong = try await new.nextFrame(timeout: .seconds(5))
            #expect(pong?.pong.opaque == ConcurrencySettings.optInOpaque)
            // A second opt-in gets only its Pong.
            try await new.send(.ping(ConcurrencySettings.optInOpaque))
            #expect(try await new.nextFrame(timeout: .seconds(5))?.kindName == "Pong")
            await new.close()
        }
    }

    @Test("a raw client that ignores the limit still gets RESOURCE_EXHAUSTED beyond it")
    func rawClientRefused() async throws {
        try await withTestServer(configuration: Self.limited(4)) { _, port in
            let raw = try await RawFrameConnection.connect(port: port)
            try await raw.send(.ping(ConcurrencySettings.optInOpaque))
            for index in 0..<5 {
                var request = Framerpc_V1_Request()
                request.method = FixtureService.slow
                request.payload = try Self.slow(5_000).serializedData()
                try await raw.send(callID: UInt64(2 * index + 1), request: request)
            }
            var refused: [UInt64] = []
            while let frame = try await raw.nextFrame(timeout: .seconds(3)) {
                if case .response(let response) = frame.kind, response.status.code == RPCError.Code.resourceExhausted.rawValue {
                    refused.append(frame.callID)
                    break
                }
            }
            #expect(refused == [9])
            await raw.close()
        }
    }

    @Test("calls beyond limit and queue fail with RESOURCE_EXHAUSTED at once")
    func fullQueueFailsFast() async throws {
        let server = RPCServer(configuration: Self.limited(1), services: [FixtureService()])
        try await withRunningServer(server) { port in
            var configuration = RPCClient.Configuration()
            configuration.maximumQueuedCallsPerConnection = 2
            let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
            defer { client.shutdown() }
            let held = Task { await Self.pipeline(3, on: client, milliseconds: 1_000) }
            #expect(await eventually { client.endpoints.first?.callsInFlight == 3 })
            let start = ContinuousClock.now
            let error = await rpcError { _ = try await client.echo("one too many") }
            #expect(error?.code == .resourceExhausted)
            #expect(ContinuousClock.now - start < .milliseconds(500))
            let heldErrors = await held.value
            #expect(heldErrors.allSatisfy { $0 == nil }, "\(heldErrors)")
        }
    }

    @Test("a queued call whose deadline passes fails DEADLINE_EXCEEDED without being sent")
    func queuedDeadline() async throws {
        let probe = HandlerProbe()
        let server = RPCServer(configuration: Self.limited(1), services: [FixtureService(probe: probe)])
        try await withRunningServer(server) { port in
            let client = RPCClient(host: "127.0.0.1", port: port)
            defer { client.shutdown() }
            let held = Task { await Self.pipeline(1, on: client, milliseconds: 1_500) }
            #expect(await probe.wait(for: "slow started"))
            let error = await rpcError {
                _ = try await client.unary(method: FixtureService.slow, request: Self.slow(1), response: Google_Protobuf_Int64Value.self, options: CallOptions(timeout: .milliseconds(200)))
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(error?.neverProcessed == true)
            _ = await held.value
            #expect(probe.recorded.filter { $0 == "slow started" }.count == 1, "\(probe.recorded)")
        }
    }

    @Test("a lowered limit is announced, enforced once acknowledged, and the client keeps working under it")
    func loweredLimit() async throws {
        let server = RPCServer(configuration: Self.limited(8), services: [FixtureService()])
        try await withRunningServer(server) { port in
            let raw = try await RawFrameConnection.connect(port: port)
            try await raw.send(.ping(ConcurrencySettings.optInOpaque))
            #expect(try await raw.nextFrame(timeout: .seconds(5))?.settings.maxConcurrentCalls == 8)
            #expect(try await raw.nextFrame(timeout: .seconds(5))?.kindName == "Pong")
            try await raw.send(.ping(ConcurrencySettings.acknowledgementOpaque))
            #expect(try await raw.nextFrame(timeout: .seconds(5))?.kindName == "Pong")

            server.changeConcurrencyLimit(to: 2)
            #expect(try await raw.nextFrame(timeout: .seconds(5))?.settings.maxConcurrentCalls == 2)
            var request = Framerpc_V1_Request()
            request.method = FixtureService.slow
            request.payload = try Self.slow(5_000).serializedData()
            // Not yet acknowledged: the old limit of 8 still holds.
            for callID in [1, 3, 5] as [UInt64] { try await raw.send(callID: callID, request: request) }
            try await raw.send(.ping(ConcurrencySettings.acknowledgementOpaque))
            #expect(try await raw.nextFrame(timeout: .seconds(5))?.kindName == "Pong")
            try await raw.send(callID: 7, request: request)
            let refusal = try await raw.nextFrame(timeout: .seconds(5))
            #expect(refusal?.callID == 7)
            #expect(refusal?.response.status.code == RPCError.Code.resourceExhausted.rawValue)
            await raw.close()

            // A real client on a new connection is told 2 and queues the rest.
            let client = RPCClient(host: "127.0.0.1", port: port)
            defer { client.shutdown() }
            let errors = await Self.pipeline(20, on: client)
            #expect(errors.allSatisfy { $0 == nil }, "\(errors.compactMap { $0 }.prefix(3))")
        }
    }
}

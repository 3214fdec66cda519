@testable import FrameRPC
import Foundation
import SwiftProtobuf
import Testing

@Suite("Graceful drain")
struct DrainTests {
    @Test("calls in flight complete, the listener closes, and the client moves to a new server")
    func inFlightCompleteAndClientMoves() async throws {
        let probe = HandlerProbe()
        let first = RPCServer(services: [FixtureService(probe: probe)])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await first.run() }
            let port = try await first.port
            let client = RPCClient(host: "127.0.0.1", port: port)
            defer { client.shutdown() }

            let inFlight = Task {
                try await client.unary(method: FixtureService.slow, request: Google_Protobuf_Int64Value.with { $0.value = 500 }, response: Google_Protobuf_Int64Value.self)
            }
            #expect(await probe.wait(for: "slow started"))
            first.beginGracefulShutdown()
            #expect(first.health.status(of: "") == .notServing)

            // The old listener closes, so a new server can take the port.
            let second = try await bindWhenFree(port: port, services: [FixtureService()], in: &group)
            _ = try await second.port

            #expect(try await inFlight.value.value == 500)
            #expect(try await client.echo("on the new server") == "on the new server")
            group.cancelAll()
        }
    }

    @Test("after GoAway, a new call on the draining connection gets UNAVAILABLE")
    func newCallsRefused() async throws {
        let probe = HandlerProbe()
        let server = RPCServer(services: [FixtureService(probe: probe)])
        try await withRunningServer(server) { port throws in
            let connection = try await RawFrameConnection.connect(port: port)
            var slow = Framerpc_V1_Request()
            slow.method = FixtureService.slow
            slow.payload = try Google_Protobuf_Int64Value.with { $0.value = 2_000 }.serializedData()
            try await connection.send(callID: 1, request: slow)
            #expect(await probe.wait(for: "slow started"))

            server.beginGracefulShutdown()
            let goAway = try await connection.nextFrame(timeout: .seconds(2))
            #expect(goAway?.goAway.code == 0)
            #expect(goAway?.goAway.lastCallID == 1)

            var echo = Framerpc_V1_Request()
            echo.method = FixtureService.echo
            try await connection.send(callID: 3, request: echo)
            let refused = try await connection.nextFrame(timeout: .seconds(2))
            #expect(refused?.callID == 3)
            #expect(refused?.response.status.code == RPCError.Code.unavailable.rawValue)

            let completed = try await connection.nextFrame(timeout: .seconds(5))
            #expect(completed?.callID == 1)
            #expect(completed?.response.status.code == 0)
            #expect(await connection.waitForClose(timeout: .seconds(10)))
        }
    }

    @Test("a client's GoAway with an error code closes the connection at once, even with a call in flight")
    func clientGoAwayWithErrorClosesNow() async throws {
        let probe = HandlerProbe()
        let server = RPCServer(services: [FixtureService(probe: probe)])
        try await withRunningServer(server) { port throws in
            let connection = try await RawFrameConnection.connect(port: port)
            var slow = Framerpc_V1_Request()
            slow.method = FixtureService.slow
            slow.payload = try Google_Protobuf_Int64Value.with { $0.value = 5_000 }.serializedData()
            try await connection.send(callID: 1, request: slow)
            #expect(await probe.wait(for: "slow started"))

            try await connection.send(.goAway(lastCallID: 0, code: RPCError.Code.internal.rawValue, message: "client gave up"))
            // Well before the 5 s call could have finished.
            #expect(await connection.waitForClose(timeout: .seconds(2)))
        }
    }

    @Test("a client's graceful GoAway lets the call in flight finish, then the server closes")
    func clientGracefulGoAwayWaitsForCalls() async throws {
        let probe = HandlerProbe()
        let server = RPCServer(services: [FixtureService(probe: probe)])
        try await withRunningServer(server) { port throws in
            let connection = try await RawFrameConnection.connect(port: port)
            var slow = Framerpc_V1_Request()
            slow.method = FixtureService.slow
            slow.payload = try Google_Protobuf_Int64Value.with { $0.value = 300 }.serializedData()
            try await connection.send(callID: 1, request: slow)
            #expect(await probe.wait(for: "slow started"))

            try await connection.send(.goAway(lastCallID: 0, code: 0, message: "client done"))
            let completed = try await connection.nextFrame(timeout: .seconds(5))
            #expect(completed?.callID == 1)
            #expect(completed?.response.status.code == 0)
            #expect(await connection.waitForClose(timeout: .seconds(5)))
        }
    }

    @Test("run() returns once the drain has closed every connection")
    func runReturnsAfterDrain() async throws {
        let server = RPCServer(services: [FixtureService()])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let client = RPCClient(host: "127.0.0.1", port: try await server.port)
            defer { client.shutdown() }
            #expect(try await client.echo("x") == "x")
            server.beginGracefulShutdown()
            try await group.next()
        }
    }
}

/// Starts a server on `port` as soon as the previous owner has released it
/// (closing a listener completes asynchronously).
private func bindWhenFree(
    port: Int,
    services: [any RPCService],
    in group: inout ThrowingTaskGroup<Void, any Error>
) async throws -> RPCServer {
    let end = ContinuousClock.now + .seconds(5)
    while true {
        let server = RPCServer(configuration: .init(port: port), services: services)
        group.addTask { try? await server.run() }
        do {
            _ = try await server.port
            return server
        } catch where ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

import FrameRPC
import Foundation
import SwiftProtobuf
import NIOCore
import NIOPosix
import Testing

@Suite("Connection life")
struct ConnectionLifeTests {
    @Test("keepalive detects a peer that stops reading and fails its calls with UNAVAILABLE")
    func keepaliveDetectsDeadPeer() async throws {
        // A peer that accepts and then never reads nor writes.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let client = RPCClient(
            host: "127.0.0.1",
            port: silent.localAddress!.port!,
            configuration: .init(keepalive: Keepalive(interval: .milliseconds(150), timeout: .milliseconds(150)))
        )
        defer { client.shutdown() }
        let start = ContinuousClock.now
        let error = await rpcError { _ = try await client.echo("anyone?") }
        #expect(error?.code == .unavailable)
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    @Test("a connection that dies fails every call on it at once with UNAVAILABLE")
    func deadConnectionFailsAllCalls() async throws {
        let probe = HandlerProbe()
        let server = RPCServer(services: [FixtureService(probe: probe)])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let client = RPCClient(host: "127.0.0.1", port: try await server.port)
            defer { client.shutdown() }
            let calls = Task {
                try await withThrowingTaskGroup(of: RPCError?.self) { calls in
                    for _ in 0..<10 {
                        calls.addTask {
                            await rpcError {
                                _ = try await client.unary(method: FixtureService.slow, request: Google_Protobuf_Int64Value.with { $0.value = 30_000 }, response: Google_Protobuf_Int64Value.self)
                            }
                        }
                    }
                    return try await calls.reduce(into: [RPCError?]()) { $0.append($1) }
                }
            }
            #expect(await probe.wait(for: "slow started"))
            let start = ContinuousClock.now
            group.cancelAll()  // stops the server: connections close at once
            let errors = try await calls.value
            #expect(errors.count == 10)
            #expect(errors.allSatisfy { $0?.code == .unavailable })
            // The handlers would run 30 s; failing well before that is "at
            // once", with room for a machine busy with the other suites.
            #expect(ContinuousClock.now - start < .seconds(10))
        }
    }

    @Test("the client reconnects after the server restarts on the same port")
    func reconnectAfterRestart() async throws {
        let first = RPCServer(services: [FixtureService()])
        var port = 0
        let backoff = RPCClient.Backoff(initial: .milliseconds(20), maximum: .milliseconds(100))
        var client: RPCClient!
        try await withRunningServer(first) { boundPort throws in
            port = boundPort
            client = RPCClient(host: "127.0.0.1", port: port, configuration: .init(backoff: backoff))
            #expect(try await client.echo("before") == "before")
        }
        defer { client.shutdown() }

        let whileDown = await rpcError { _ = try await client.echo("down") }
        #expect(whileDown?.code == .unavailable)

        let second = RPCServer(configuration: .init(port: port), services: [FixtureService()])
        try await withRunningServer(second) { _ throws in
            var answer: String?
            let end = ContinuousClock.now + .seconds(5)
            while answer == nil, ContinuousClock.now < end {
                answer = try? await client.echo("after")
                if answer == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(answer == "after")
        }
    }

    @Test("calls made while the endpoint is unreachable fail fast with UNAVAILABLE")
    func unreachableFailsFast() async throws {
        // A port bound but never listening: nobody listens on it, and no
        // server of another test can take it meanwhile.
        let (port, reservation) = try refusingPort()
        defer { close(reservation) }
        let client = RPCClient(host: "127.0.0.1", port: port)
        defer { client.shutdown() }
        for _ in 0..<3 {
            let start = ContinuousClock.now
            let error = await rpcError { _ = try await client.echo("x") }
            #expect(error?.code == .unavailable)
            #expect(error?.neverProcessed == true)
            #expect(ContinuousClock.now - start < .seconds(1))
        }
    }
}

import FrameRPC
import Foundation
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization
import Testing

/// Counts the calls a server serves, so a test sees where calls went.
final class ServedCalls: ServerInterceptor, Sendable {
    private let count = Atomic<Int>(0)
    var total: Int { count.load(ordering: .relaxed) }

    func intercept(context: ServerContext, next: (ServerContext) async throws -> ServerOutcome) async throws -> ServerOutcome {
        if !context.method.hasPrefix("/framerpc.health.") { count.wrappingAdd(1, ordering: .relaxed) }
        return try await next(context)
    }
}

/// Runs a fixture server counting its calls for the duration of `body`.
func withCountedServer<Result: Sendable>(
    port: Int = 0,
    probe: HandlerProbe = HandlerProbe(),
    _ body: (_ port: Int, _ served: ServedCalls) async throws -> Result
) async throws -> Result {
    let served = ServedCalls()
    let server = RPCServer(configuration: .init(port: port), services: [FixtureService(probe: probe)], interceptors: [served])
    return try await withRunningServer(server) { port in try await body(port, served) }
}

/// A port where connections are refused while the returned channel lives:
/// bound, never listening.
func refusingPort() throws -> (port: Int, keepAlive: Int32) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return (Int(UInt16(bigEndian: address.sin_port)), descriptor)
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

@Suite("Load balancing over real sockets")
struct BalancingTests {
    static func local(_ port: Int) -> RPCAddress { RPCAddress(host: "127.0.0.1", port: port) }

    @Test("calls in flight steer each new call to the endpoint with fewer")
    func inFlightSteers() async throws {
        let probe = HandlerProbe()
        try await withCountedServer(probe: probe) { first, _ throws in
            try await withCountedServer(probe: probe) { second, _ throws in
                let client = RPCClient(target: .addresses([Self.local(first), Self.local(second)]))
                defer { client.shutdown() }
                await withThrowingTaskGroup(of: Void.self) { calls in
                    for started in 1...10 {
                        calls.addTask {
                            _ = try? await client.unary(method: FixtureService.slow, request: Google_Protobuf_Int64Value.with { $0.value = 30_000 }, response: Google_Protobuf_Int64Value.self)
                        }
                        // One at a time, so each pick sees the calls before it.
                        let counted = await eventually { client.endpoints.map(\.callsInFlight).reduce(0, +) == started }
                        #expect(counted)
                    }
                    #expect(client.endpoints.map(\.callsInFlight) == [5, 5])
                    calls.cancelAll()
                }
            }
        }
    }

    @Test("an endpoint that refuses connections is skipped and no call fails")
    func refusingEndpointSkipped() async throws {
        let refusing = try refusingPort()
        defer { close(refusing.keepAlive) }
        try await withCountedServer { port, served throws in
            let client = RPCClient(target: .addresses([Self.local(refusing.port), Self.local(port)]))
            defer { client.shutdown() }
            for index in 0..<50 {
                #expect(try await client.echo("call \(index)") == "call \(index)")
            }
            #expect(served.total == 50)
            let refused = client.endpoints.first { $0.address.port == refusing.port }
            if case .backingOff = refused?.connectivity {} else {
                Issue.record("the refusing endpoint is \(String(describing: refused?.connectivity)), not backing off")
            }
        }
    }

    @Test("when every endpoint refuses, a call fails fast with UNAVAILABLE, never sent")
    func allDownFailsFast() async throws {
        let first = try refusingPort()
        let second = try refusingPort()
        defer {
            close(first.keepAlive)
            close(second.keepAlive)
        }
        // Far from any connect timeout or backoff, with room for a loaded machine.
        let client = RPCClient(
            target: .addresses([Self.local(first.port), Self.local(second.port)]),
            configuration: .init(connectTimeout: .seconds(30), backoff: .init(initial: .seconds(30), maximum: .seconds(30)))
        )
        defer { client.shutdown() }
        for _ in 0..<3 {
            let start = ContinuousClock.now
            let error = await rpcError { _ = try await client.echo("anyone?") }
            #expect(error?.code == .unavailable)
            #expect(error?.neverProcessed == true)
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test("a picked endpoint's client sends every call there, counted in the shared load")
    func pinnedEndpoint() async throws {
        try await withCountedServer { first, servedFirst throws in
            try await withCountedServer { second, servedSecond throws in
                let client = RPCClient(target: .addresses([Self.local(first), Self.local(second)]))
                defer { client.shutdown() }
                let picked = try #require(try await client.pickEndpoint { $0.port == second })
                #expect(picked.address == Self.local(second))
                for _ in 0..<20 { _ = try await picked.client.echo("here") }
                #expect(servedSecond.total == 20)
                #expect(servedFirst.total == 0)
                // Its shutdown leaves the endpoint to the client it came from.
                picked.client.shutdown()
                #expect(try await client.echo("still") == "still")
                #expect(try await client.pickEndpoint { _ in false } == nil)
            }
        }
    }

    @Test("a picked endpoint is another one than those to avoid while one is available")
    func pickAvoids() async throws {
        try await withCountedServer { first, _ throws in
            try await withCountedServer { second, _ throws in
                let client = RPCClient(target: .addresses([Self.local(first), Self.local(second)]))
                defer { client.shutdown() }
                for _ in 0..<20 {
                    let picked = try await client.pickEndpoint(avoiding: [Self.local(first)])
                    #expect(picked?.address == Self.local(second))
                }
            }
        }
    }

    @Test("an empty address list fails calls with UNAVAILABLE")
    func emptyList() async throws {
        let client = RPCClient(target: .addresses([]))
        let error = await rpcError { _ = try await client.echo("nobody") }
        #expect(error?.code == .unavailable)
    }
}

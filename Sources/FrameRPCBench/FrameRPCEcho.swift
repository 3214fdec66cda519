import FrameRPC
import Foundation
import NIOPosix
import SwiftProtobuf

/// `bench.v1.Echo`: one unary method that returns its request.
struct EchoService: RPCService {
    static let echoMethod = "/bench.v1.Echo/Echo"

    func registerMethods(with router: inout RPCRouter) {
        router.registerUnary(Self.echoMethod) { (request: Google_Protobuf_BytesValue, _: ServerContext) in
            request
        }
    }
}

enum FrameRPCEchoClient {
    /// Runs `concurrency` tasks, each calling Echo in a loop over one shared
    /// client (so one connection) until `window.end`, and returns what they
    /// measured.
    /// One client, so one connection. `onEventLoop`: its group is one
    /// event loop, so ``RPCClient/callerExecutor`` is set and the calling
    /// tasks run there.
    static func makeClient(host: String, port: Int, tls: RPCTLSConfiguration?, onEventLoop: Bool) -> RPCClient {
        var configuration = RPCClient.Configuration(tls: tls)
        if onEventLoop { configuration.eventLoopGroup = MultiThreadedEventLoopGroup.singleton.next() }
        return RPCClient(host: host, port: port, configuration: configuration)
    }

    static func run(host: String, port: Int, payload: [UInt8], concurrency: Int, window: TimedWindow, tls: RPCTLSConfiguration? = nil, onEventLoop: Bool = false) async throws -> LoadSample {
        let client = makeClient(host: host, port: port, tls: tls, onEventLoop: onEventLoop)
        defer { client.shutdown() }
        let request = Google_Protobuf_BytesValue.with { $0.value = Data(payload) }
        let expectedCount = payload.count

        return try await withThrowingTaskGroup(of: LoadSample.self) { group in
            for _ in 0..<concurrency {
                group.addTask(executorPreference: client.callerExecutor) {
                    var latencies: [Int64] = []
                    latencies.reserveCapacity(1 << 16)
                    var errors = 0
                    var lastError: (any Error)?
                    while true {
                        let sent = nowNanos()
                        guard sent < window.end else { break }
                        do {
                            let response = try await client.unary(
                                method: EchoService.echoMethod,
                                request: request,
                                response: Google_Protobuf_BytesValue.self
                            )
                            let received = nowNanos()
                            if response.value.count != expectedCount {
                                errors += 1
                            } else if window.contains(received) {
                                latencies.append(Int64(received - sent))
                            }
                        } catch {
                            errors += 1
                            lastError = error
                            // A broken connection makes every call fail at
                            // once; do not spin on it for the whole window.
                            if errors > 1_000 { break }
                        }
                    }
                    if let lastError, errors > 0 {
                        printError("FrameRPC: \(errors) calls failed; last error: \(lastError)")
                    }
                    return LoadSample(latencies: latencies, errors: errors)
                }
            }
            var total = LoadSample(latencies: [], errors: 0)
            for try await sample in group {
                total.latencies.append(contentsOf: sample.latencies)
                total.errors += sample.errors
            }
            return total
        }
    }
}

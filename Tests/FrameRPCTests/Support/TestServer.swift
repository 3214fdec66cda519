import FrameRPC
import Foundation
import SwiftProtobuf

/// Runs `server` for the duration of `body`, then stops it.
func withRunningServer<Result: Sendable>(
    _ server: RPCServer,
    _ body: (Int) async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let port = try await server.port
        do {
            let result = try await body(port)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// Runs a ``FixtureService`` server on an ephemeral port with a client to it.
func withTestServer<Result: Sendable>(
    probe: HandlerProbe = HandlerProbe(),
    configuration: RPCServer.Configuration = RPCServer.Configuration(),
    services: [any RPCService] = [],
    interceptors: [any ServerInterceptor] = [],
    clientInterceptors: [any ClientInterceptor] = [],
    _ body: (RPCClient, Int) async throws -> Result
) async throws -> Result {
    let server = RPCServer(
        configuration: configuration,
        services: [FixtureService(probe: probe)] + services,
        interceptors: interceptors
    )
    return try await withRunningServer(server) { port in
        let client = RPCClient(host: "127.0.0.1", port: port, interceptors: clientInterceptors)
        defer { client.shutdown() }
        return try await body(client, port)
    }
}

extension RPCClient {
    func echo(_ text: String, options: CallOptions = .defaults) async throws -> String {
        try await unary(method: FixtureService.echo, request: Google_Protobuf_StringValue.with { $0.value = text }, response: Google_Protobuf_StringValue.self, options: options).value
    }
}

/// Runs `body` and returns the ``RPCError`` it threw, or `nil`.
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "not an RPCError: \(error)")
    }
}

import FrameRPC
import Foundation
import SwiftProtobuf
import Testing

@Suite("Health service")
struct HealthServiceTests {
    private func check(_ client: RPCClient, _ service: String) async throws -> HealthCheckResponse.ServingStatus {
        try await HealthClient(client).check(.with { $0.service = service }).status
    }

    @Test("the whole server and each registered service answer SERVING")
    func serving() async throws {
        try await withTestServer { client, _ throws in
            #expect(try await check(client, "") == .serving)
            #expect(try await check(client, "test.v1.Test") == .serving)
        }
    }

    @Test("an unknown service name is NOT_FOUND")
    func unknownService() async throws {
        try await withTestServer { client, _ throws in
            let error = await rpcError { _ = try await check(client, "no.such.Service") }
            #expect(error?.code == .notFound)
        }
    }

    @Test("a status set by the application is what Check answers")
    func statusSetByApplication() async throws {
        let server = RPCServer(services: [FixtureService()])
        try await withRunningServer(server) { port throws in
            let client = RPCClient(host: "127.0.0.1", port: port)
            defer { client.shutdown() }
            server.health.setStatus(.notServing, for: "test.v1.Test")
            #expect(try await check(client, "test.v1.Test") == .notServing)
        }
    }
}

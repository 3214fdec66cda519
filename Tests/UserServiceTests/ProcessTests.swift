import FrameRPC
import Foundation
import ServiceTesting
import ShopAPI
import Testing

@Suite("The user service as a process")
struct ProcessTests {
    @Test("an acknowledged registration survives kill -9 and a restart on the same data")
    func survivesKill() async throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let settings = Fixture.settings

        let first = try await ShopProcess.start(service: "user", dataDirectory: temporary.path, settings: settings)
        let firstRPC = RPCClient.testing(port: first.port, calling: "user")
        let created = try await UserServiceClient(firstRPC).register()
        firstRPC.shutdown()
        await first.kill9()

        let second = try await ShopProcess.start(service: "user", dataDirectory: temporary.path, settings: settings)
        let secondRPC = RPCClient.testing(port: second.port, calling: "user")
        // Should an expectation throw, releasing `second` kills it.
        defer { secondRPC.shutdown() }
        let client = UserServiceClient(secondRPC)
        #expect(try await client.user(created.id) == created)
        #expect(!(try await client.login(created.email).accessToken.isEmpty))
        await second.terminate()
    }
}

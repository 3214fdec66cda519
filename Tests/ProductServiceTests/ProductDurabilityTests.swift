import FrameRPC
import ServiceTesting
import ShopAPI
import Testing

@Suite("Product service process")
struct ProductDurabilityTests {
    @Test("an acknowledged product survives kill -9 of the process")
    func survivesKill9() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }

        let first = try await ShopProcess.start(service: "product", dataDirectory: directory.path)
        let firstRPC = RPCClient.testing(port: first.port, calling: "product")
        let created = try await ProductServiceClient(firstRPC).create("Durable", price: 1_234, category: "kept")
        let updated = try await ProductServiceClient(firstRPC).updateProduct(.with {
            $0.id = created.id
            $0.price = 999
        }, options: asAdmin)
        firstRPC.shutdown()
        await first.kill9()

        let second = try await ShopProcess.start(service: "product", dataDirectory: directory.path)
        // Should an expectation throw, releasing `second` kills it.
        let secondRPC = RPCClient.testing(port: second.port, calling: "product")
        defer { secondRPC.shutdown() }
        let client = ProductServiceClient(secondRPC)
        #expect(try await client.get(created.id) == updated)
        #expect(try await client.list(category: "kept") == [updated])
        await second.terminate()
    }
}

import FrameRPC
import ProductService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

/// The product service on a PostgreSQL server that goes away and comes
/// back, called over real TCP.
@Suite("Product service when its PostgreSQL database is lost")
struct DatabaseOutageTests {
    @Test("calls fail UNAVAILABLE while the database is down and succeed again once it is back, without a restart")
    func unavailableThenRecovers() async throws {
        let server = try await PostgresServer.start()
        let url = try await server.createDatabase("outage")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let settings = TestSigning.settings.merging([
            ServiceDatabase.urlSetting: url,
            ServiceDatabase.timeoutSetting: "2",
        ]) { own, _ in own }
        let environment = ServiceEnvironment(dataDirectory: directory.path, settings: settings, tls: TestPKI.shared.server(as: "product"), logger: testLogger("product-outage"))
        let back = try await withRunningService(ProductServiceApp.factory, environment: environment) { port -> PostgresServer in
            let rpc = RPCClient.testing(port: port, calling: "product")
            defer { rpc.shutdown() }
            let client = ProductServiceClient(rpc)
            let lamp = try await client.create("Lamp")
            await server.stop(keepingData: true)

            let readWhileDown: @Sendable () async throws -> Void = { _ = try await client.get(lamp.id) }
            let failure = await #expect(throws: RPCError.self) { try await readWhileDown() }
            #expect(failure?.code == .unavailable)

            let restarted = try await server.restart()
            var found: Shop_Product_V1_Product?
            let deadline = ContinuousClock.now + .seconds(30)
            while found == nil, ContinuousClock.now < deadline {
                found = try? await client.get(lamp.id)
                if found == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(found?.name == "Lamp")
            return restarted
        }
        await back.stop()
    }
}

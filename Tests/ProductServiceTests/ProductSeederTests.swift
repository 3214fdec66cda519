import FrameRPC
import ProductService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Synchronization
import Testing

@Suite("shop seed's ProductSeeder")
struct ProductSeederTests {
    @Test("products seeded in batches that do not divide the count are each listed once, in order, spread over the categories")
    func seededProductsAreListedOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let environment = ServiceEnvironment(
            dataDirectory: directory.path, settings: TestSigning.settings,
            tls: TestPKI.shared.server(as: "product"), logger: testLogger("product-tests")
        )
        let reported = Mutex<[Int]>([])
        // 120 per transaction: 100-row and 20-row statements, then a last batch of 10.
        try await ProductSeeder.seed(environment: try await TestStorage.prepared(environment), count: 250, batchSize: 120) { written in
            reported.withLock { $0.append(written) }
        }
        #expect(reported.withLock { $0 } == [120, 240, 250])

        try await withRunningService(ProductServiceApp.factory, environment: environment) { port in
            let rpc = RPCClient.testing(port: port, calling: "product")
            defer { rpc.shutdown() }
            let client = ProductServiceClient(rpc)
            var names: [String] = []
            var token = ""
            repeat {
                let page = try await client.listProducts(.with { $0.pageSize = 100; $0.pageToken = token })
                names += page.products.map(\.name)
                token = page.nextPageToken
            } while !token.isEmpty && names.count <= 250
            #expect(names == (0..<250).map { "Seeded product \($0)" })
            let kitchen = try await client.listProducts(.with { $0.category = "kitchen"; $0.pageSize = 1_000 }).products
            #expect(kitchen.count == 25)
        }
    }
}

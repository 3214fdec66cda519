import FrameRPC
import ProductService
import ServiceSupport
import ServiceTesting
import ShopAPI

/// Calls as an admin, as the gateway sends them for an admin's token.
let asAdmin = ServiceTesting.asAdmin()
/// Calls as a plain user.
let asUser = CallOptions(metadata: ["x-user-id": Validation.newID(), "x-user-role": "user"])

/// Runs the product service in this process on a fresh data folder and
/// gives `body` a client to it over TCP.
func withProductService<Result: Sendable>(
    _ body: (ProductServiceClient) async throws -> Result
) async throws -> Result {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let environment = ServiceEnvironment(dataDirectory: directory.path, tls: TestPKI.shared.server(as: "product"), logger: testLogger("product-tests"))
    return try await withRunningService(ProductServiceApp.factory, environment: environment) { port in
        let rpc = RPCClient.testing(port: port, calling: "product")
        defer { rpc.shutdown() }
        return try await body(ProductServiceClient(rpc))
    }
}

extension ProductServiceClient {
    /// Creates a product as an admin.
    @discardableResult
    func create(
        _ name: String,
        price: Int64 = 1_999,
        category: String = "",
        description: String = ""
    ) async throws -> Shop_Product_V1_Product {
        try await createProduct(
            .with {
                $0.name = name
                $0.price = price
                $0.category = category
                $0.description_p = description
            },
            options: asAdmin
        )
    }

    func get(_ id: String) async throws -> Shop_Product_V1_Product {
        try await getProduct(.with { $0.id = id })
    }

    func list(skip: Int32 = 0, limit: Int32 = 0, category: String = "") async throws -> [Shop_Product_V1_Product] {
        try await listProducts(.with {
            $0.skip = skip
            $0.limit = limit
            $0.category = category
        }).products
    }

    /// `BatchGetProducts`, which the order service (and the gateway) call.
    func batch(_ ids: [String]) async throws -> [Shop_Product_V1_Product] {
        try await batchGetProducts(.with { $0.ids = ids }).products
    }
}

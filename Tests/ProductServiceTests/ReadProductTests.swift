import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("ProductService.GetProduct and BatchGetProducts")
struct ReadProductTests {
    @Test("GetProduct returns exactly what CreateProduct answered, to anyone")
    func getReturnsCreated() async throws {
        try await withProductService { client throws in
            let created = try await client.create("Kettle", price: 4_500, category: "kitchen", description: "1.7 l")
            #expect(try await client.get(created.id) == created)
            let request = Shop_Product_V1_GetProductRequest.with { $0.id = created.id }
            #expect(try await client.getProduct(request, options: try await asUser(Validation.newID())) == created)
        }
    }

    @Test("GetProduct accepts the id in upper case")
    func getUpperCaseID() async throws {
        try await withProductService { client throws in
            let created = try await client.create("Kettle")
            #expect(try await client.get(created.id.uppercased()) == created)
        }
    }

    @Test("GetProduct of an unknown id is NOT_FOUND")
    func getUnknown() async throws {
        try await withProductService { client throws in
            let error = await rpcError { _ = try await client.get(Validation.newID()) }
            #expect(error?.code == .notFound)
        }
    }

    @Test("GetProduct of an id that is not a UUID is INVALID_ARGUMENT naming id")
    func getMalformed() async throws {
        try await withProductService { client throws in
            let error = await rpcError { _ = try await client.get("not-an-id") }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("id:") == true)
        }
    }

    @Test("BatchGetProducts answers in the order asked and leaves unknown ids out")
    func batchOrderAndUnknown() async throws {
        try await withProductService { client throws in
            let a = try await client.create("A", price: 100)
            let b = try await client.create("B", price: 200)
            let c = try await client.create("C", price: 300)
            let products = try await client.batch([c.id, Validation.newID(), a.id, "garbage", b.id])
            #expect(products == [c, a, b])
        }
    }

    @Test("BatchGetProducts answers a product asked twice once, at its first position")
    func batchDuplicates() async throws {
        try await withProductService { client throws in
            let a = try await client.create("A")
            let b = try await client.create("B")
            #expect(try await client.batch([b.id, a.id, b.id, a.id.uppercased()]) == [b, a])
        }
    }

    @Test("BatchGetProducts with no ids answers no products")
    func batchEmpty() async throws {
        try await withProductService { client throws in
            try await client.create("A")
            #expect(try await client.batch([]).isEmpty)
        }
    }

    @Test("BatchGetProducts takes 1000 ids; 1001 is INVALID_ARGUMENT naming ids")
    func batchLimit() async throws {
        try await withProductService { client throws in
            let a = try await client.create("A")
            let thousand = [a.id] + (1..<1_000).map { _ in Validation.newID() }
            #expect(try await client.batch(thousand) == [a])
            let error = await rpcError { _ = try await client.batch(thousand + [Validation.newID()]) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("ids:") == true)
        }
    }

    @Test("BatchGetProducts is open to a plain user")
    func batchAsUser() async throws {
        try await withProductService { client throws in
            let a = try await client.create("A")
            let request = Shop_Product_V1_BatchGetProductsRequest.with { $0.ids = [a.id] }
            #expect(try await client.batchGetProducts(request, options: try await asUser(Validation.newID())).products == [a])
        }
    }
}

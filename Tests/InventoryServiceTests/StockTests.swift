import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("InventoryService.GetStock and SetStock")
struct StockTests {
    @Test("a product without a stock record is NOT_FOUND")
    func noRecord() async throws {
        try await withInventoryService { client, _ throws in
            let error = await rpcError { _ = try await client.stock(newID()) }
            #expect(error?.code == .notFound)
        }
    }

    @Test("SetStock creates the record and GetStock reads it, for anyone")
    func setThenGet() async throws {
        try await withInventoryService { client, _ throws in
            let product = newID()
            let set = try await client.set(product, available: 12)
            #expect(set.productID == product)
            #expect(set.available == 12)
            #expect(set.reserved == 0)
            #expect(try await client.stock(product) == set)
            let request = Shop_Inventory_V1_GetStockRequest.with { $0.productID = product }
            #expect(try await client.getStock(request, options: try await asUser(Validation.newID())) == set)
        }
    }

    @Test("SetStock replaces the available count and is idempotent; 0 is allowed")
    func replaceAvailable() async throws {
        try await withInventoryService { client, _ throws in
            let product = newID()
            try await client.set(product, available: 12)
            try await client.set(product, available: 3)
            try await client.set(product, available: 3)
            #expect(try await client.counts(product) == Counts(3, 0))
            try await client.set(product, available: 0)
            #expect(try await client.counts(product) == Counts(0, 0))
        }
    }

    @Test("SetStock leaves units held by reservations held")
    func keepsReserved() async throws {
        try await withInventoryService { client, _ throws in
            let product = newID()
            try await client.set(product, available: 10)
            try await client.reserve(newID(), [(product, 4)])
            let stock = try await client.set(product, available: 20)
            #expect(stock.available == 20)
            #expect(stock.reserved == 4)
        }
    }

    @Test("a negative available is INVALID_ARGUMENT naming available")
    func negativeAvailable() async throws {
        try await withInventoryService { client, _ throws in
            let product = newID()
            let error = await rpcError { try await client.set(product, available: -1) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("available:") == true)
            let refusal = await rpcError { _ = try await client.stock(product) }
            #expect(refusal?.code == .notFound)
        }
    }

    @Test("a product id that is not a UUID is INVALID_ARGUMENT naming product_id")
    func malformedProductID() async throws {
        try await withInventoryService { client, _ throws in
            let onGet = await rpcError { _ = try await client.stock("sku-1") }
            #expect(onGet?.code == .invalidArgument)
            #expect(onGet?.message.hasPrefix("product_id:") == true)
            let onSet = await rpcError { try await client.set("", available: 1) }
            #expect(onSet?.code == .invalidArgument)
            #expect(onSet?.message.hasPrefix("product_id:") == true)
        }
    }

    @Test("a plain user may not set stock: PERMISSION_DENIED; an admin may")
    func setStockPermissions() async throws {
        try await withInventoryService { client, _ throws in
            let product = newID()
            let error = await rpcError {
                _ = try await client.setStock(.with {
                    $0.productID = product
                    $0.available = 5
                }, options: try await asUser(Validation.newID()))
            }
            #expect(error?.code == .permissionDenied)
            let refusal = await rpcError { _ = try await client.stock(product) }
            #expect(refusal?.code == .notFound)
            let stock = try await client.setStock(.with {
                $0.productID = product
                $0.available = 5
            }, options: try await asAdmin())
            #expect(stock.available == 5)
        }
    }
}

import FrameRPC
import Foundation
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("ProductService.CreateProduct")
struct CreateProductTests {
    @Test("an admin creates a product and gets it back with a new id and timestamps")
    func adminCreates() async throws {
        try await withProductService { client throws in
            let product = try await client.create("  Espresso cup ", price: 1_250, category: "kitchen", description: "Small.\nWhite.")
            #expect(UUID(uuidString: product.id) != nil)
            #expect(product.name == "Espresso cup")
            #expect(product.price == 1_250)
            #expect(product.category == "kitchen")
            #expect(product.description_p == "Small.\nWhite.")
            #expect(product.hasCreatedAt)
            #expect(product.updatedAt == product.createdAt)
            let age = Date().timeIntervalSince(product.createdAt.date)
            #expect(age >= 0 && age < 60)
        }
    }

    @Test("an admin's product reads back exactly as created")
    func adminProductReadsBack() async throws {
        try await withProductService { client throws in
            let product = try await client.createProduct(.with {
                $0.name = "Teapot"
                $0.price = 3_000
            }, options: try await asAdmin())
            #expect(try await client.get(product.id) == product)
        }
    }

    @Test("a plain user may not create a product: PERMISSION_DENIED, and nothing is created")
    func userMayNotCreate() async throws {
        try await withProductService { client throws in
            let error = await rpcError {
                _ = try await client.createProduct(.with {
                    $0.name = "Teapot"
                    $0.price = 3_000
                }, options: try await asUser(Validation.newID()))
            }
            #expect(error?.code == .permissionDenied)
            #expect(try await client.list().isEmpty)
        }
    }

    @Test("a missing or blank name is INVALID_ARGUMENT naming name")
    func nameRequired() async throws {
        try await withProductService { client throws in
            for name in ["", "   "] {
                let error = await rpcError { try await client.create(name) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.hasPrefix("name:") == true)
            }
        }
    }

    @Test("a name of 200 characters is accepted, 201 is INVALID_ARGUMENT naming name")
    func nameLength() async throws {
        try await withProductService { client throws in
            let longest = String(repeating: "n", count: 200)
            #expect(try await client.create(longest).name == longest)
            let error = await rpcError { try await client.create(longest + "n") }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("name:") == true)
        }
    }

    @Test("a negative price is INVALID_ARGUMENT naming price")
    func negativePrice() async throws {
        try await withProductService { client throws in
            let error = await rpcError { try await client.create("Mug", price: -1) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("price:") == true)
            #expect(try await client.list().isEmpty)
        }
    }

    @Test("a price of 0 (free) is accepted and prices are exact integer cents")
    func freeAndExactPrices() async throws {
        try await withProductService { client throws in
            #expect(try await client.create("Sticker", price: 0).price == 0)
            let pen = try await client.create("Pen", price: 1_999)
            #expect(try await client.get(pen.id).price == 1_999)
        }
    }

    @Test("an absurdly high price is INVALID_ARGUMENT naming price")
    func priceCeiling() async throws {
        try await withProductService { client throws in
            let error = await rpcError { try await client.create("Yacht", price: Int64.max) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("price:") == true)
        }
    }

    @Test("the category is optional and a category over 100 characters is INVALID_ARGUMENT naming category")
    func categoryOptional() async throws {
        try await withProductService { client throws in
            #expect(try await client.create("Spoon").category == "")
            let error = await rpcError { try await client.create("Fork", category: String(repeating: "c", count: 101)) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("category:") == true)
        }
    }

    @Test("each product gets its own id")
    func distinctIDs() async throws {
        try await withProductService { client throws in
            let first = try await client.create("Mug")
            let second = try await client.create("Mug")
            #expect(first.id != second.id)
        }
    }
}

import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("ProductService.UpdateProduct")
struct UpdateProductTests {
    @Test("only the fields present change; reads show the change")
    func partialUpdate() async throws {
        try await withProductService { client throws in
            let created = try await client.create("Kettle", price: 4_500, category: "kitchen", description: "1.7 l")
            let updated = try await client.updateProduct(.with {
                $0.id = created.id
                $0.price = 3_999
            }, options: try await asAdmin())
            #expect(updated.price == 3_999)
            #expect(updated.name == "Kettle")
            #expect(updated.category == "kitchen")
            #expect(updated.description_p == "1.7 l")
            #expect(updated.createdAt == created.createdAt)
            #expect(updated.updatedAt.date >= created.updatedAt.date)
            #expect(try await client.get(created.id) == updated)
        }
    }

    @Test("every field can change in one update")
    func fullUpdate() async throws {
        try await withProductService { client throws in
            let created = try await client.create("Kettle", price: 4_500, category: "kitchen", description: "1.7 l")
            let updated = try await client.updateProduct(.with {
                $0.id = created.id
                $0.name = " Travel kettle "
                $0.description_p = "0.5 l"
                $0.price = 2_500
                $0.category = "travel"
            }, options: try await asAdmin())
            #expect(updated.name == "Travel kettle")
            #expect(updated.description_p == "0.5 l")
            #expect(updated.price == 2_500)
            #expect(updated.category == "travel")
            #expect(try await client.list(category: "travel") == [updated])
            #expect(try await client.list(category: "kitchen").isEmpty)
        }
    }

    @Test("a present empty category clears it; a present empty description clears it")
    func clearOptionalFields() async throws {
        try await withProductService { client throws in
            let created = try await client.create("Kettle", category: "kitchen", description: "1.7 l")
            let updated = try await client.updateProduct(.with {
                $0.id = created.id
                $0.category = ""
                $0.description_p = ""
            }, options: try await asAdmin())
            #expect(updated.category == "")
            #expect(updated.description_p == "")
            #expect(updated.name == "Kettle")
        }
    }

    @Test("an update with no fields changes nothing, not even updated_at")
    func emptyUpdate() async throws {
        try await withProductService { client throws in
            let created = try await client.create("Kettle")
            let same = try await client.updateProduct(.with { $0.id = created.id }, options: try await asAdmin())
            #expect(same == created)
        }
    }

    @Test("a negative price is INVALID_ARGUMENT naming price and changes nothing")
    func negativePrice() async throws {
        try await withProductService { client throws in
            let created = try await client.create("Kettle", price: 4_500)
            let error = await rpcError {
                _ = try await client.updateProduct(.with {
                    $0.id = created.id
                    $0.name = "Renamed"
                    $0.price = -5
                }, options: try await asAdmin())
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("price:") == true)
            #expect(try await client.get(created.id) == created)
        }
    }

    @Test("a present empty name is INVALID_ARGUMENT naming name")
    func emptyName() async throws {
        try await withProductService { client throws in
            let created = try await client.create("Kettle")
            let error = await rpcError {
                _ = try await client.updateProduct(.with {
                    $0.id = created.id
                    $0.name = ""
                }, options: try await asAdmin())
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("name:") == true)
        }
    }

    @Test("updating an unknown product is NOT_FOUND; a malformed id is INVALID_ARGUMENT naming id")
    func unknownOrMalformed() async throws {
        try await withProductService { client throws in
            let unknown = await rpcError {
                _ = try await client.updateProduct(.with {
                    $0.id = Validation.newID()
                    $0.price = 100
                }, options: try await asAdmin())
            }
            #expect(unknown?.code == .notFound)
            let malformed = await rpcError {
                _ = try await client.updateProduct(.with {
                    $0.id = "42"
                    $0.price = 100
                }, options: try await asAdmin())
            }
            #expect(malformed?.code == .invalidArgument)
            #expect(malformed?.message.hasPrefix("id:") == true)
        }
    }

    @Test("a plain user may not update a product: PERMISSION_DENIED, and nothing changes")
    func userMayNotUpdate() async throws {
        try await withProductService { client throws in
            let created = try await client.create("Kettle", price: 4_500)
            let error = await rpcError {
                _ = try await client.updateProduct(.with {
                    $0.id = created.id
                    $0.price = 1
                }, options: try await asUser(Validation.newID()))
            }
            #expect(error?.code == .permissionDenied)
            #expect(try await client.get(created.id) == created)
        }
    }
}

@Suite("ProductService.DeleteProduct")
struct DeleteProductTests {
    @Test("a deleted product is gone from get, list and batch")
    func deleteRemoves() async throws {
        try await withProductService { client throws in
            let keep = try await client.create("Keep")
            let gone = try await client.create("Gone")
            _ = try await client.deleteProduct(.with { $0.id = gone.id }, options: try await asAdmin())
            let error = await rpcError { _ = try await client.get(gone.id) }
            #expect(error?.code == .notFound)
            #expect(try await client.list() == [keep])
            #expect(try await client.batch([gone.id, keep.id]) == [keep])
        }
    }

    @Test("deleting an unknown product, or one already deleted, is NOT_FOUND")
    func deleteUnknown() async throws {
        try await withProductService { client throws in
            let product = try await client.create("Once")
            _ = try await client.deleteProduct(.with { $0.id = product.id }, options: try await asAdmin())
            let again = await rpcError { _ = try await client.deleteProduct(.with { $0.id = product.id }, options: try await asAdmin()) }
            #expect(again?.code == .notFound)
            let unknown = await rpcError { _ = try await client.deleteProduct(.with { $0.id = Validation.newID() }, options: try await asAdmin()) }
            #expect(unknown?.code == .notFound)
        }
    }

    @Test("deleting with a malformed id is INVALID_ARGUMENT naming id")
    func deleteMalformed() async throws {
        try await withProductService { client throws in
            let error = await rpcError { _ = try await client.deleteProduct(.with { $0.id = "" }, options: try await asAdmin()) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("id:") == true)
        }
    }

    @Test("a plain user may not delete a product: PERMISSION_DENIED, and it stays")
    func userMayNotDelete() async throws {
        try await withProductService { client throws in
            let product = try await client.create("Stays")
            let error = await rpcError { _ = try await client.deleteProduct(.with { $0.id = product.id }, options: try await asUser(Validation.newID())) }
            #expect(error?.code == .permissionDenied)
            #expect(try await client.get(product.id) == product)
        }
    }
}

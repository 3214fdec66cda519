import FrameRPC
import Foundation
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

/// The `(shop.api.rules)` of product.proto enforced by the generated
/// registration, before the handler, for any caller: INVALID_ARGUMENT over
/// real TCP through the generated client, naming the field path and the
/// rule. One test per rule kind.
@Suite("Field rules at the product service")
struct FieldRulesAtServiceTests {
    private func create(_ client: ProductServiceClient, _ fill: (inout Shop_Product_V1_CreateProductRequest) -> Void) async -> RPCError? {
        var request = Shop_Product_V1_CreateProductRequest()
        request.name = "Teapot"
        request.price = 100
        fill(&request)
        let made = request
        return await rpcError { _ = try await client.createProduct(made, options: try await asAdmin()) }
    }

    @Test("required: an empty name is INVALID_ARGUMENT naming name and required")
    func required() async throws {
        try await withProductService { client throws in
            let error = await create(client) { $0.name = "" }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "name: is required (required)")
            #expect(try await client.list().isEmpty)
        }
    }

    @Test("max_length: a name of 201 characters is refused")
    func maxLength() async throws {
        try await withProductService { client throws in
            let error = await create(client) { $0.name = String(repeating: "n", count: 201) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "name: must be at most 200 characters (max_length)")
        }
    }

    @Test("max_bytes: a description over 20,000 bytes of UTF-8 is refused")
    func maxBytes() async throws {
        try await withProductService { client throws in
            let error = await create(client) { $0.description_p = String(repeating: "\u{1F600}", count: 5_001) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "description: must be at most 20000 bytes of UTF-8 (max_bytes)")
        }
    }

    @Test("pattern: a name of white space only is refused")
    func pattern() async throws {
        try await withProductService { client throws in
            let error = await create(client) { $0.name = " \t " }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == #"name: must match \S (pattern)"#)
        }
    }

    @Test("minimum and maximum: a negative price and one over a billion are refused")
    func minimumAndMaximum() async throws {
        try await withProductService { client throws in
            let negative = await create(client) { $0.price = -1 }
            #expect(negative?.message == "price: must be at least 0.00 (minimum)")
            let huge = await create(client) { $0.price = 100_000_000_001 }
            #expect(huge?.message == "price: must be at most 1000000000.00 (maximum)")
        }
    }

    @Test("format uuid: an id that is not a UUID is refused before any lookup")
    func formatUUID() async throws {
        try await withProductService { client throws in
            let error = await rpcError { _ = try await client.get("not-a-uuid") }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "id: must be a UUID (format)")
        }
    }

    @Test("max_items: a batch of 1,001 ids is refused")
    func maxItems() async throws {
        try await withProductService { client throws in
            let ids = (0..<1_001).map { _ in Validation.newID() }
            let error = await rpcError { _ = try await client.batch(ids) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "ids: must have at most 1000 items (max_items)")
        }
    }

    @Test("every failing field is named in one INVALID_ARGUMENT")
    func everyFailingField() async throws {
        try await withProductService { client throws in
            let error = await create(client) {
                $0.name = ""
                $0.price = -5
            }
            #expect(error?.message == "name: is required (required); price: must be at least 0.00 (minimum)")
        }
    }
}

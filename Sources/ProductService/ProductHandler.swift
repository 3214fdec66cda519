import FrameRPC
import ServiceSupport
import ShopAPI

/// Serves `shop.product.v1.ProductService`: the catalog.
///
/// Reads are open to every caller the call policy lets in (the gateway
/// serves them publicly; the order service prices orders with
/// `BatchGetProducts`). Writes change the catalog and are for admins only
/// (the policy lets only the gateway call them): a plain user gets
/// PERMISSION_DENIED, an anonymous caller UNAUTHENTICATED. Every input is checked here with INVALID_ARGUMENT
/// naming the field; unknown ids are NOT_FOUND.
struct ProductHandler: ProductServiceHandler {
    let store: ProductStore
    let callers: CallerResolver

    func createProduct(_ request: Shop_Product_V1_CreateProductRequest, context: ServerContext) async throws -> Shop_Product_V1_Product {
        try await callers.caller(of: context).requireAdmin()
        let now = ProductRecord.nowMilliseconds()
        let product = ProductRecord(
            id: Validation.newID(),
            name: ProductRules.name(request.name),
            description: ProductRules.description(request.description_p),
            price: request.price,
            category: ProductRules.category(request.category),
            createdAtMilliseconds: now,
            updatedAtMilliseconds: now
        )
        try await store.insert(product)
        return product.message
    }

    func getProduct(_ request: Shop_Product_V1_GetProductRequest, context: ServerContext) async throws -> Shop_Product_V1_Product {
        let id = try Validation.id(request.id, field: "id")
        guard let product = try await store.product(id: id) else { throw Self.notFound(id) }
        return product.message
    }

    /// The products found, in the order asked, each once (a repeated id
    /// answers with the product at its first position). An id that names no
    /// product, including one that is not a UUID at all, is left out: the
    /// caller compares what it asked with what it got. More than 1,000 ids
    /// is INVALID_ARGUMENT (the field's `max_items` rule).
    func batchGetProducts(_ request: Shop_Product_V1_BatchGetProductsRequest, context: ServerContext) async throws -> Shop_Product_V1_BatchGetProductsResponse {
        var wanted: [String] = []
        var seen: Set<String> = []
        for raw in request.ids {
            guard let id = try? Validation.id(raw, field: "ids"), seen.insert(id).inserted else { continue }
            wanted.append(id)
        }
        let found = try await store.products(ids: wanted)
        return .with { $0.products = wanted.compactMap { found[$0]?.message } }
    }

    /// A page (``PageCursor``: `page_size`/`page_token`, or `skip`/`limit`;
    /// 100 by default, at most 1000) in creation
    /// order; a non-empty `category` keeps only that category (exact match).
    func listProducts(_ request: Shop_Product_V1_ListProductsRequest, context: ServerContext) async throws -> Shop_Product_V1_ListProductsResponse {
        let category = ProductRules.category(request.category)
        let cursor = try PageCursor(
            pageSize: request.pageSize, pageToken: request.pageToken, skip: request.skip, limit: request.limit,
            list: "products", filters: [category]
        )
        let page = try await store.list(cursor: cursor, category: category.isEmpty ? nil : category)
        return .with {
            $0.products = page.products.map(\.message)
            $0.nextPageToken = cursor.nextPageToken(lastKey: page.lastSeq.map { [$0] }, hasMore: page.hasMore)
        }
    }

    /// Changes only the fields present in the request; `updated_at` moves
    /// only when something changed. All fields are checked before anything
    /// is written, so a bad field changes nothing.
    func updateProduct(_ request: Shop_Product_V1_UpdateProductRequest, context: ServerContext) async throws -> Shop_Product_V1_Product {
        try await callers.caller(of: context).requireAdmin()
        let id = try Validation.id(request.id, field: "id")
        let name = request.hasName ? ProductRules.name(request.name) : nil
        let description = request.hasDescription_p ? ProductRules.description(request.description_p) : nil
        let price: Int64? = request.hasPrice ? request.price : nil
        let category = request.hasCategory ? ProductRules.category(request.category) : nil
        let now = ProductRecord.nowMilliseconds()
        let updated = try await store.update(id: id) { product in
            let before = product
            if let name { product.name = name }
            if let description { product.description = description }
            if let price { product.price = price }
            if let category { product.category = category }
            guard product != before else { return false }
            product.updatedAtMilliseconds = max(now, product.createdAtMilliseconds)
            return true
        }
        guard let updated else { throw Self.notFound(id) }
        return updated.message
    }

    func deleteProduct(_ request: Shop_Product_V1_DeleteProductRequest, context: ServerContext) async throws -> Shop_Product_V1_DeleteProductResponse {
        try await callers.caller(of: context).requireAdmin()
        let id = try Validation.id(request.id, field: "id")
        guard try await store.delete(id: id) else { throw Self.notFound(id) }
        return Shop_Product_V1_DeleteProductResponse()
    }

    private static func notFound(_ id: String) -> RPCError {
        RPCError(code: .notFound, message: "product \(id) not found")
    }
}

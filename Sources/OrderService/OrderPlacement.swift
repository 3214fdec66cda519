import Foundation
import FrameRPC
import Logging
import ServiceSupport
import ShopAPI

/// CreateOrder: the one write that spans services (DESIGN.md, "Placing an
/// order").
///
/// 1. Validate the items and decide whose order it is.
/// 2. An idempotency key already used by this user answers with its order,
///    if the request is the same (``RequestFingerprint``); a different
///    request under a used key is INVALID_ARGUMENT (HTTP 422).
/// 3. UserService.GetUser: the customer exists and is active.
/// 4. ProductService.BatchGetProducts: unit prices come from the catalog,
///    never from the client.
/// 5. InventoryService.Reserve, keyed by the new order id: all items or none.
/// 6. One local transaction writes the order (confirmed), its items, its
///    notification event and the commit of its reservation (outbox).
/// 7. InventoryService.Commit; if that fails the outbox relay retries it
///    (``InventoryDelivery`` settles a commit refused for good).
///
/// A failure after the reservation and before the transaction releases the
/// reservation (or queues its release, if the inventory service cannot be
/// reached; uncommitted reservations also expire on their own). Two
/// concurrent requests with one idempotency key both reserve, but only one
/// order is written: in one process they are joined before anything is
/// reserved (``PlacementCoalescer``); across processes the UNIQUE index lets
/// one transaction win, and the loser releases its reservation and answers
/// with the winner's order.
struct OrderPlacement: Sendable {
    let store: OrderStore
    let upstreams: Upstreams
    let inventoryDelivery: InventoryDelivery
    let inventoryDoorbell: Doorbell
    let notificationDoorbell: Doorbell
    let callers: CallerResolver
    let coalescer = PlacementCoalescer()
    let logger: Logger

    static let maximumItems = 100
    static let maximumQuantity: Int32 = 10_000
    static let maximumKeyLength = 200
    /// The metadata key the gateway may use instead of the request field.
    static let idempotencyMetadataKey = "idempotency-key"
    /// The budget for compensating and committing calls, which no longer
    /// run under the caller's deadline.
    static let followUpTimeout: Duration = .seconds(5)

    /// One product and how many, after merging repeated product ids.
    struct Line: Sendable {
        let productID: String
        var quantity: Int32
    }

    func place(_ request: Shop_Order_V1_CreateOrderRequest, context: ServerContext) async throws -> StoredOrder {
        let caller = try await callers.caller(of: context)
        let lines = try Self.validatedLines(request.items)
        let ownerID = try Self.owner(requested: request.userID, caller: caller)
        let key = try Self.idempotencyKey(field: request.idempotencyKey, metadata: context.metadata[Self.idempotencyMetadataKey])

        guard let key else {
            return try await placeNew(lines: lines, ownerID: ownerID, key: nil, fingerprint: nil, context: context)
        }
        let fingerprint = RequestFingerprint(ownerID: ownerID, lines: lines)
        // Only the same request joins a run under way: a different one is
        // judged on its own (and refused once the first order exists).
        let order = try await coalescer.run(.init(userID: ownerID, idempotencyKey: key, fingerprint: fingerprint.value)) {
            if let existing = try await store.order(userID: ownerID, idempotencyKey: key) {
                return existing
            }
            return try await placeNew(lines: lines, ownerID: ownerID, key: key, fingerprint: fingerprint, context: context)
        }
        try fingerprint.check(order.row.requestFingerprint)
        return order
    }

    /// Steps 3 to 7 for an order not placed before.
    private func placeNew(
        lines: [Line], ownerID: String, key: String?, fingerprint: RequestFingerprint?, context: ServerContext
    ) async throws -> StoredOrder {
        try await checkCustomer(ownerID)
        let prices = try await catalogPrices(for: lines)
        let items = lines.enumerated().map { position, line in
            OrderItemRow(orderID: "", position: position, productID: line.productID, quantity: line.quantity, unitPrice: prices[line.productID]!)
        }
        let total = try Self.total(of: items)

        let orderID = Validation.newID()
        try await reserve(orderID: orderID, ownerID: ownerID, lines: lines, context: context)

        let now = StoredTime.now()
        let order = StoredOrder(
            row: OrderRow(
                id: orderID, userID: ownerID, status: OrderStatusMachine.name(.confirmed),
                totalAmount: total, idempotencyKey: key, requestFingerprint: fingerprint?.value,
                createdAt: now, updatedAt: now
            ),
            items: items.map { var item = $0; item.orderID = orderID; return item }
        )
        let commit = OutboxEvent(destination: .inventory, kind: OutboxEvent.Kind.inventoryCommit, orderID: orderID, userID: ownerID)
        let insertion: OrderStore.Insertion
        do {
            insertion = try await store.insert(order, events: [OrderStore.notificationEvent(for: order), commit])
        } catch {
            await releaseDropped(orderID: orderID, ownerID: ownerID, context: context)
            throw error
        }
        switch insertion {
        case .duplicate(let existing):
            await releaseDropped(orderID: orderID, ownerID: ownerID, context: context)
            return existing
        case .inserted(let order):
            notificationDoorbell.ring()
            // A commit refused even now (the reservation expired while this
            // call was slow) has cancelled the order: answer with that.
            return await commitReservation(commit, context: context) ?? order
        }
    }

    // MARK: Steps

    private func checkCustomer(_ userID: String) async throws {
        let user: Shop_User_V1_User
        do {
            // As an internal call: the order service must learn the truth
            // about the account whoever the caller is.
            user = try await upstreams.users.getUser(.with { $0.id = userID })
        } catch let error as RPCError where error.code == .notFound {
            throw RPCError(code: .failedPrecondition, message: "user_id: user \(userID) does not exist")
        } catch {
            throw UpstreamCall.failure(error, service: "user", logger: logger)
        }
        guard user.isActive else {
            throw RPCError(code: .failedPrecondition, message: "user_id: user \(userID) is not active")
        }
    }

    /// Unit prices in cents by product id; NOT_FOUND naming the first
    /// product the catalog does not have.
    private func catalogPrices(for lines: [Line]) async throws -> [String: Int64] {
        let response: Shop_Product_V1_BatchGetProductsResponse
        do {
            response = try await upstreams.products.batchGetProducts(.with { $0.ids = lines.map(\.productID) })
        } catch {
            throw UpstreamCall.failure(error, service: "product", logger: logger)
        }
        var prices: [String: Int64] = [:]
        for product in response.products {
            prices[product.id.lowercased()] = product.price
        }
        for line in lines where prices[line.productID] == nil {
            throw RPCError(code: .notFound, message: "product \(line.productID) not found")
        }
        return prices
    }

    private func reserve(orderID: String, ownerID: String, lines: [Line], context: ServerContext) async throws {
        do {
            _ = try await upstreams.inventory.reserve(.with {
                $0.orderID = orderID
                $0.items = lines.map { line in .with { $0.productID = line.productID; $0.quantity = line.quantity } }
            })
        } catch let error as RPCError where error.code == .failedPrecondition || error.code == .notFound {
            // All or nothing: a refused reservation holds no stock.
            throw RPCError(code: .failedPrecondition, message: "not enough stock: \(error.message)")
        } catch let error as RPCError where error.neverProcessed || error.code == .invalidArgument {
            throw UpstreamCall.failure(error, service: "inventory", logger: logger)
        } catch {
            // The reservation may have been made before the call failed.
            await releaseDropped(orderID: orderID, ownerID: ownerID, context: context)
            throw UpstreamCall.failure(error, service: "inventory", logger: logger)
        }
    }

    /// Commits the reservation of a written order; on failure the outbox
    /// relay retries (the commit event was written with the order).
    ///
    /// - Returns: the order as cancelled, if the commit was refused for good.
    private func commitReservation(_ event: OutboxEvent, context: ServerContext) async -> StoredOrder? {
        let (delivery, store, logger) = (inventoryDelivery, store, logger)
        let outcome: InventoryDelivery.Outcome? = await UpstreamCall.detached(from: context) {
            do {
                let outcome = try await delivery.deliver(event, timeout: Self.followUpTimeout)
                try await store.markDelivered(eventID: event.id)
                return outcome
            } catch {
                logger.warning("commit failed; the outbox will retry", metadata: ["order_id": "\(event.orderID)", "error": "\(error)"])
                return nil
            }
        }
        switch outcome {
        case nil:
            inventoryDoorbell.ring()
            return nil
        case .orderCancelled(let order):
            return order
        case .delivered, .refused:
            return nil
        }
    }

    /// Releases the reservation of an order that will not be written. If
    /// the inventory service cannot be reached, the release is queued in the
    /// outbox (and the reservation would expire anyway).
    private func releaseDropped(orderID: String, ownerID: String, context: ServerContext) async {
        let (inventory, store, logger) = (upstreams.inventory, store, logger)
        let settled = await UpstreamCall.detached(from: context) {
            do {
                _ = try await inventory.release(.with { $0.orderID = orderID }, options: CallOptions(timeout: Self.followUpTimeout))
                return true
            } catch let error as RPCError where error.code == .notFound {
                return true
            } catch {
                do {
                    try await store.enqueue(OutboxEvent(
                        destination: .inventory, kind: OutboxEvent.Kind.inventoryRelease, orderID: orderID, userID: ownerID
                    ))
                } catch {
                    logger.error("could not queue a release; the reservation will expire", metadata: ["order_id": "\(orderID)", "error": "\(error)"])
                }
                return false
            }
        }
        if !settled { inventoryDoorbell.ring() }
    }

    // MARK: Rules

    /// The order's lines, one per product: lines naming the same product
    /// are merged (at most 100 lines of at most 10,000 units each, so a
    /// merged quantity stays far inside `Int32`). The count, the quantities
    /// and the UUIDs are `(shop.api.rules)` of order.proto, checked by the
    /// generated registration before the handler runs; ids are lower-cased
    /// here.
    static func validatedLines(_ items: [Shop_Order_V1_OrderItemRequest]) throws -> [Line] {
        var lines: [Line] = []
        var index: [String: Int] = [:]
        for (position, item) in items.enumerated() {
            let productID = try Validation.id(item.productID, field: "items[\(position)].product_id")
            if let existing = index[productID] {
                lines[existing].quantity += item.quantity
            } else {
                index[productID] = lines.count
                lines.append(Line(productID: productID, quantity: item.quantity))
            }
        }
        return lines
    }

    /// The caller's own order; an admin may name another user, a user may
    /// name only themselves; an anonymous caller places none.
    static func owner(requested: String, caller: Caller) throws -> String {
        if requested.isEmpty {
            return try Validation.id(try caller.requireUser(), field: "user_id")
        }
        let requestedID = try Validation.id(requested, field: "user_id")
        if caller.isPrivileged { return requestedID }
        let own = try caller.requireUser()
        guard (try? Validation.id(own, field: "user_id")) == requestedID else {
            throw RPCError(code: .permissionDenied, message: "user_id: only admins may place orders for someone else")
        }
        return requestedID
    }

    /// The request field, else the `idempotency-key` metadata; `nil` if
    /// neither is set.
    static func idempotencyKey(field: String, metadata: String?) throws -> String? {
        let raw = field.isEmpty ? (metadata ?? "") : field
        let key = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { return nil }
        try Validation.checkLength(key, field: "idempotency_key", maxLength: maximumKeyLength)
        return key
    }

    /// Sum of quantity times unit price, in cents; INVALID_ARGUMENT if it
    /// does not fit.
    static func total(of items: [OrderItemRow]) throws -> Int64 {
        var total: Int64 = 0
        for item in items {
            let (line, lineOverflow) = Int64(item.quantity).multipliedReportingOverflow(by: item.unitPrice)
            let (sum, sumOverflow) = total.addingReportingOverflow(line)
            guard !lineOverflow, !sumOverflow else { throw Validation.invalid("items", "the total is too large") }
            total = sum
        }
        return total
    }
}

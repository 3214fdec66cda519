import FrameRPC
import Foundation
import ServiceSupport
import ShopAPI

/// Serves `shop.inventory.v1.InventoryService`: stock levels and the
/// reservations that hold units for orders.
///
/// `GetStock` is public. `SetStock` changes what is for sale: admins and
/// internal callers only. `Reserve`, `Commit` and `Release` are the order
/// service's: the gateway does not expose them, and they are allowed for
/// any caller because the order service may call them on a user's behalf.
/// All three are idempotent per order id, so the order service may retry
/// them freely.
struct InventoryHandler: InventoryServiceHandler {
    let store: InventoryStore
    let policy: ReservationPolicy

    /// NOT_FOUND for a product that has no stock record.
    func getStock(_ request: Shop_Inventory_V1_GetStockRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Stock {
        let productID = try Validation.id(request.productID, field: "product_id")
        guard let level = try await store.stock(productID: productID) else {
            throw RPCError(code: .notFound, message: "product \(productID) has no stock record")
        }
        return level.message
    }

    /// Creates the stock record or replaces its `available` count; units
    /// held by reservations stay held.
    func setStock(_ request: Shop_Inventory_V1_SetStockRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Stock {
        try Caller(context).requireAdmin()
        let productID = try Validation.id(request.productID, field: "product_id")
        guard request.available >= 0 else { throw Validation.invalid("available", "must be 0 or more") }
        return try await store.setStock(productID: productID, available: Int(request.available)).message
    }

    /// All items or none: FAILED_PRECONDITION naming the product when any
    /// item lacks stock, and then nothing is held. Reserving again for the
    /// same order returns the existing reservation (in whatever state it is
    /// now) and holds nothing more.
    func reserve(_ request: Shop_Inventory_V1_ReserveRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Reservation {
        let reservation = try ReservationRequest(request)
        return try await store.reserve(reservation, now: Date(), ttlSeconds: policy.ttlSeconds).message
    }

    /// The reserved units are sold. Committing twice answers the committed
    /// reservation; an expired one is taken again from `available` if all
    /// its units are there; otherwise, and for one released on request, it
    /// is FAILED_PRECONDITION with a `CommitRefusal` detail
    /// (``CommitRefused``); an order without a reservation is NOT_FOUND.
    func commit(_ request: Shop_Inventory_V1_CommitRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Reservation {
        let orderID = try Validation.id(request.orderID, field: "order_id")
        guard let reservation = try await store.commit(orderID: orderID, now: Date()) else {
            throw Self.noReservation(orderID)
        }
        return reservation.message
    }

    /// The units go back to `available`, whether held or already committed
    /// (an order cancelled). Releasing twice answers the released
    /// reservation; an order without a reservation is NOT_FOUND.
    func release(_ request: Shop_Inventory_V1_ReleaseRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Reservation {
        let orderID = try Validation.id(request.orderID, field: "order_id")
        guard let reservation = try await store.release(orderID: orderID, now: Date()) else {
            throw Self.noReservation(orderID)
        }
        return reservation.message
    }

    private static func noReservation(_ orderID: String) -> RPCError {
        RPCError(code: .notFound, message: "order \(orderID) has no reservation")
    }
}

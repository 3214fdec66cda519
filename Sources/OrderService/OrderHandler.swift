import FrameRPC
import Logging
import ServiceSupport
import ShopAPI

/// The order service's RPCs.
///
/// Calls act for the end user of the token the gateway forwards
/// (``CallerResolver``): a user sees and changes only their own orders
/// (PERMISSION_DENIED for someone else's), an admin any; only the gateway
/// may call these RPCs at all (`OrderServicePolicy`). Status changes go
/// through ``OrderStatusMachine`` and are written with their outbox events
/// in one transaction, then published to WatchOrder streams.
struct OrderHandler: OrderServiceHandler {
    let store: OrderStore
    let placement: OrderPlacement
    let upstreams: Upstreams
    let inventoryDelivery: InventoryDelivery
    let callers: CallerResolver
    let updates: OrderUpdates
    let inventoryDoorbell: Doorbell
    let notificationDoorbell: Doorbell
    let logger: Logger

    func createOrder(_ request: Shop_Order_V1_CreateOrderRequest, context: ServerContext) async throws -> Shop_Order_V1_Order {
        try await placement.place(request, context: context).message
    }

    func getOrder(_ request: Shop_Order_V1_GetOrderRequest, context: ServerContext) async throws -> Shop_Order_V1_Order {
        let caller = try await callers.caller(of: context)
        let order = try await visibleOrder(request.id, caller: caller)
        var message = order.message
        do {
            // As the order service itself, no user token forwarded: the
            // caller may see this order (checked above), so it may see its
            // customer; the user service's policy lets the order service read
            // users and nothing more.
            message.user = try await upstreams.users.getUser(.with { $0.id = order.row.userID })
        } catch {
            throw UpstreamCall.failure(error, service: "user", logger: logger)
        }
        return message
    }

    func listOrders(_ request: Shop_Order_V1_ListOrdersRequest, context: ServerContext) async throws -> Shop_Order_V1_ListOrdersResponse {
        let userID = try await callers.caller(of: context).listingScope(requested: request.userID, noun: "orders")
        // The scope is part of the fingerprint: a token made for one user's
        // list is refused for another's.
        let cursor = try PageCursor(
            pageSize: request.pageSize, pageToken: request.pageToken, skip: request.skip, limit: request.limit,
            list: "orders", filters: [userID ?? ""], keyCount: 1, textKey: true
        )
        let page = try await store.orders(userID: userID, cursor: cursor)
        return .with {
            $0.orders = page.orders.map(\.message)
            $0.nextPageToken = cursor.nextPageToken(
                lastKey: page.lastKey.map { [$0.createdAt] }, lastText: page.lastKey?.id, hasMore: page.hasMore
            )
        }
    }

    func cancelOrder(_ request: Shop_Order_V1_CancelOrderRequest, context: ServerContext) async throws -> Shop_Order_V1_Order {
        let id = try Validation.id(request.id, field: "id")
        return try await change(orderID: id, to: .cancelled, caller: try await callers.caller(of: context), context: context)
    }

    func updateOrderStatus(_ request: Shop_Order_V1_UpdateOrderStatusRequest, context: ServerContext) async throws -> Shop_Order_V1_Order {
        let caller = try await callers.caller(of: context)
        try caller.requireAdmin()
        let id = try Validation.id(request.id, field: "id")
        switch request.status {
        case .pending, .confirmed, .shipped, .delivered, .cancelled:
            break
        case .unspecified, .UNRECOGNIZED:
            throw Validation.invalid("status", "must be one of confirmed, shipped, delivered, cancelled")
        }
        return try await change(orderID: id, to: request.status, caller: caller, context: context)
    }

    func watchOrder(_ request: Shop_Order_V1_WatchOrderRequest, writer: RPCWriter<Shop_Order_V1_Order>, context: ServerContext) async throws {
        let caller = try await callers.caller(of: context)
        let id = try Validation.id(request.id, field: "id")
        // Subscribe first, then read: no change can fall in between.
        let subscription = await updates.subscribe(orderID: id)
        do {
            try await stream(orderID: id, caller: caller, subscription: subscription, writer: writer)
        } catch {
            await updates.unsubscribe(subscription)
            throw error
        }
        await updates.unsubscribe(subscription)
    }

    // MARK: Helpers

    private func stream(
        orderID: String,
        caller: Caller,
        subscription: OrderUpdates.Subscription,
        writer: RPCWriter<Shop_Order_V1_Order>
    ) async throws {
        let current = try await visibleOrder(orderID, caller: caller)
        try await writer.write(current.message)
        var last = current.status
        if OrderStatusMachine.isFinal(last) { return }
        for await order in subscription.updates {
            // Moves only ever go to a later status; anything else is a
            // change already sent.
            guard order.status.rawValue > last.rawValue else { continue }
            try await writer.write(order)
            last = order.status
            if OrderStatusMachine.isFinal(last) { return }
        }
        // The stream ends only when the call is cancelled.
        try Task.checkCancellation()
    }

    /// The order, if the caller may see it: NOT_FOUND for an unknown id,
    /// PERMISSION_DENIED for someone else's.
    private func visibleOrder(_ rawID: String, caller: Caller) async throws -> StoredOrder {
        let id = try Validation.id(rawID, field: "id")
        guard let order = try await store.order(id: id) else {
            throw RPCError(code: .notFound, message: "order \(id) not found")
        }
        try caller.requireAccess(ownedBy: order.row.userID, denial: "order \(id) belongs to another user")
        return order
    }

    /// Applies a status change, tells the watchers, and sends the events it
    /// produced on their way (a cancellation releases the order's stock now;
    /// if the inventory service cannot be reached the outbox retries).
    private func change(
        orderID: String,
        to target: Shop_Order_V1_OrderStatus,
        caller: Caller,
        context: ServerContext
    ) async throws -> Shop_Order_V1_Order {
        // Who cancelled, for the order's status detail and the notification.
        let cancellationDetail = target == .cancelled
            ? (caller.isPrivileged ? "cancelled by an administrator" : "cancelled by the customer")
            : nil
        let (order, events) = try await store.transition(orderID: orderID, to: target, cancellationDetail: cancellationDetail) { row in
            try caller.requireAccess(ownedBy: row.userID, denial: "order \(orderID) belongs to another user")
        }
        let message = order.message
        await updates.publish(message)
        notificationDoorbell.ring()
        for event in events where event.destination == .inventory {
            await settleInventory(event, context: context)
        }
        return message
    }

    /// Delivers an inventory event now, outside the caller's deadline and
    /// cancellation; marks it delivered, or leaves it to the relay.
    private func settleInventory(_ event: OutboxEvent, context: ServerContext) async {
        let (delivery, store, logger) = (inventoryDelivery, store, logger)
        let settled = await UpstreamCall.detached(from: context) {
            do {
                try await delivery.deliver(event, timeout: OrderPlacement.followUpTimeout)
                try await store.markDelivered(eventID: event.id)
                return true
            } catch {
                logger.warning("inventory update failed; the outbox will retry", metadata: [
                    "order_id": "\(event.orderID)", "kind": "\(event.kind)", "error": "\(error)",
                ])
                return false
            }
        }
        if !settled { inventoryDoorbell.ring() }
    }
}

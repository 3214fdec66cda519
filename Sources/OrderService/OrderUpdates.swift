import Foundation
import ShopAPI

/// In-process fan-out of order changes to WatchOrder streams.
///
/// Every status change made in this process is published here after its
/// transaction commits; with several replicas on PostgreSQL, changes made
/// on the others arrive through ``OrderUpdateFeed``. Each watcher of that
/// order id gets it on its own stream. A watcher
/// subscribes before it reads the current order, so no change can fall
/// between the read and the subscription (it may see a change twice, which
/// it filters by status).
actor OrderUpdates {
    private var watchers: [String: [UUID: AsyncStream<Shop_Order_V1_Order>.Continuation]] = [:]

    struct Subscription: Sendable {
        let orderID: String
        let token: UUID
        let updates: AsyncStream<Shop_Order_V1_Order>
    }

    func subscribe(orderID: String) -> Subscription {
        let (updates, continuation) = AsyncStream.makeStream(of: Shop_Order_V1_Order.self)
        let token = UUID()
        watchers[orderID, default: [:]][token] = continuation
        return Subscription(orderID: orderID, token: token, updates: updates)
    }

    func unsubscribe(_ subscription: Subscription) {
        let continuation = watchers[subscription.orderID]?.removeValue(forKey: subscription.token)
        if watchers[subscription.orderID]?.isEmpty == true {
            watchers[subscription.orderID] = nil
        }
        continuation?.finish()
    }

    /// The orders someone here watches.
    var watchedOrderIDs: [String] { Array(watchers.keys) }

    func isWatched(_ orderID: String) -> Bool { watchers[orderID] != nil }

    func publish(_ order: Shop_Order_V1_Order) {
        guard let streams = watchers[order.id] else { return }
        for continuation in streams.values {
            continuation.yield(order)
        }
    }
}

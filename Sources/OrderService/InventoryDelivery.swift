import FrameRPC
import Logging
import ServiceSupport
import ShopAPI
import SwiftProtobuf

/// Delivers the order service's inventory events, and settles the orders
/// whose commit can never go through.
///
/// `inventory_commit` is InventoryService.Commit and `inventory_release` is
/// InventoryService.Release, both keyed by the order id and idempotent, so
/// delivering twice is safe. A commit is never abandoned: a commit that
/// arrives after its reservation expired is taken again by the inventory
/// service if the units are still there; if they are not, the inventory
/// service refuses it for good (FAILED_PRECONDITION with a `CommitRefusal`
/// detail; NOT_FOUND when it has no reservation at all), and then the order
/// is cancelled with the reason `stock_unavailable`, its owner is told
/// (`order_cancelled_out_of_stock`) and whatever is still held is released,
/// all written to the outbox in one transaction
/// (``OrderStore/settleRefusedCommit(event:detail:productID:)``), so a
/// crash at any point loses none of it.
struct InventoryDelivery: Sendable {
    let inventory: InventoryServiceClient
    let store: OrderStore
    let updates: OrderUpdates
    let notificationDoorbell: Doorbell
    let inventoryDoorbell: Doorbell
    let logger: Logger

    /// What a delivered event came to.
    enum Outcome: Sendable {
        /// The inventory service did what the event asked.
        case delivered
        /// The commit was refused for good and the order was cancelled.
        case orderCancelled(StoredOrder)
        /// The commit was refused, and the order needed no change or could
        /// not be changed (see the log).
        case refused
    }

    /// Delivers `event`; throws what the caller should retry (or abandon,
    /// for a malformed event). A refused commit is settled, not thrown.
    @discardableResult
    func deliver(_ event: OutboxEvent, timeout: Duration) async throws -> Outcome {
        let options = CallOptions(timeout: timeout)
        switch event.kind {
        case OutboxEvent.Kind.inventoryCommit:
            do {
                _ = try await inventory.commit(.with { $0.orderID = event.orderID }, options: options)
                return .delivered
            } catch let error as RPCError {
                guard let refusal = Self.refusal(in: error) else { throw error }
                return try await settleRefused(event, refusal: refusal, error: error)
            }
        case OutboxEvent.Kind.inventoryRelease:
            do {
                _ = try await inventory.release(.with { $0.orderID = event.orderID }, options: options)
            } catch let error as RPCError where error.code == .notFound {
                // No reservation was ever made under this order id: nothing
                // to give back.
            }
            return .delivered
        default:
            throw RPCError(code: .invalidArgument, message: "unknown inventory event kind \(event.kind)")
        }
    }

    /// The refusal a failed commit stands for, if it failed for good: the
    /// typed detail, or (from an inventory service that sends none, or
    /// that has no reservation for the order) a refusal without a reason.
    static func refusal(in error: RPCError) -> Shop_Inventory_V1_CommitRefusal? {
        switch error.code {
        case .failedPrecondition:
            if let detail = error.details.first(where: { $0.isA(Shop_Inventory_V1_CommitRefusal.self) }),
               let refusal = try? Shop_Inventory_V1_CommitRefusal(unpackingAny: detail) {
                return refusal
            }
            return Shop_Inventory_V1_CommitRefusal()
        case .notFound:
            return Shop_Inventory_V1_CommitRefusal()
        default:
            return nil
        }
    }

    /// For the order's status detail and the log: why the commit failed.
    static func explanation(of refusal: Shop_Inventory_V1_CommitRefusal, error: RPCError) -> String {
        switch refusal.reason {
        case .stockGone:
            return "the stock held for this order expired before the order could be completed, and product "
                + "\(refusal.productID) sold out meanwhile (\(refusal.available) available, \(refusal.requested) needed)"
        case .released:
            return "the stock held for this order had been released"
        case .unspecified, .UNRECOGNIZED:
            return "the inventory service could not commit the stock held for this order (\(error.code.name))"
        }
    }

    private func settleRefused(_ event: OutboxEvent, refusal: Shop_Inventory_V1_CommitRefusal, error: RPCError) async throws -> Outcome {
        let detail = Self.explanation(of: refusal, error: error)
        let productID = refusal.productID.isEmpty ? nil : refusal.productID
        let settlement = try await store.settleRefusedCommit(event: event, detail: detail, productID: productID)
        switch settlement {
        case .cancelled(let order, _):
            logger.warning("commit refused; the order is cancelled", metadata: [
                "order_id": "\(event.orderID)", "reason": "\(detail)",
            ])
            await updates.publish(order.message)
            notificationDoorbell.ring()
            inventoryDoorbell.ring()
            return .orderCancelled(order)
        case .alreadySettled:
            return .refused
        case .needsReconciliation(let order):
            logger.error("commit refused for an order that has moved on; set aside for reconciliation", metadata: [
                "order_id": "\(event.orderID)", "status": "\(order.row.status)", "reason": "\(detail)",
            ])
            return .refused
        }
    }
}

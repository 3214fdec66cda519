import FrameRPC
import ShopAPI

/// What an inventory outbox event means as a call: `inventory_commit` is
/// InventoryService.Commit, `inventory_release` is InventoryService.Release,
/// both keyed by the order id and idempotent, so delivering twice is safe.
enum InventoryDelivery {
    static func deliver(_ event: OutboxEvent, to inventory: InventoryServiceClient, timeout: Duration) async throws {
        let options = CallOptions(timeout: timeout)
        switch event.kind {
        case OutboxEvent.Kind.inventoryCommit:
            _ = try await inventory.commit(.with { $0.orderID = event.orderID }, options: options)
        case OutboxEvent.Kind.inventoryRelease:
            do {
                _ = try await inventory.release(.with { $0.orderID = event.orderID }, options: options)
            } catch let error as RPCError where error.code == .notFound {
                // No reservation was ever made under this order id: nothing
                // to give back.
            }
        default:
            throw RPCError(code: .invalidArgument, message: "unknown inventory event kind \(event.kind)")
        }
    }
}

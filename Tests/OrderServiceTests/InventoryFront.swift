import FrameRPC
import ShopAPI
import Synchronization

/// Stands between the order service and the real inventory service, on a
/// port of its own, and forwards every call to it over TCP. A test uses it
/// to make the inventory unreachable at exact moments that timing alone
/// cannot hit:
///
/// - ``stopInventory(afterNextReserve:)``: once the next Reserve has been
///   made by the real service, stop that service before answering, so the
///   commit that follows cannot be delivered (inventory down right after
///   Reserve);
/// - ``holdCommits(ofNext:)``: the commits of the next reservations answer
///   UNAVAILABLE, as an unreachable inventory does, until
///   ``releaseCommits(of:)`` lets them through to the real service.
///
/// Everything else, and every commit not held, is the real service's answer.
final class InventoryFront: Sendable {
    private struct State {
        var stopAfterReserve: ServiceInstance?
        var holdNext = 0
        var held: Set<String> = []
        var heldInOrder: [String] = []
        var commitAttempts: [String: Int] = [:]
    }

    private let state = Mutex(State())

    init() {}

    /// Stops `instance` right after the next Reserve it makes.
    func stopInventory(afterNextReserve instance: ServiceInstance) {
        state.withLock { $0.stopAfterReserve = instance }
    }

    /// Holds the commits of the next `count` reservations made through the front.
    func holdCommits(ofNext count: Int) {
        state.withLock { $0.holdNext += count }
    }

    /// Lets the commits of `orderID` through again.
    func releaseCommits(of orderID: String) {
        _ = state.withLock { $0.held.remove(orderID) }
    }

    /// The orders whose commits were held, in the order they were reserved.
    var heldOrders: [String] {
        state.withLock { $0.heldInOrder }
    }

    /// How many commits for `orderID` reached the front (held or not).
    func commitAttempts(of orderID: String) -> Int {
        state.withLock { $0.commitAttempts[orderID] ?? 0 }
    }

    func handler(forwardingTo inventory: InventoryServiceClient) -> Handler {
        Handler(front: self, inventory: inventory)
    }

    struct Handler: InventoryServiceHandler {
        let front: InventoryFront
        let inventory: InventoryServiceClient

        func getStock(_ request: Shop_Inventory_V1_GetStockRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Stock {
            try await inventory.getStock(request)
        }

        func setStock(_ request: Shop_Inventory_V1_SetStockRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Stock {
            try await inventory.setStock(request, options: CallOptions(metadata: context.metadata))
        }

        func reserve(_ request: Shop_Inventory_V1_ReserveRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Reservation {
            let reservation = try await inventory.reserve(request)
            let stop = front.state.withLock { state -> ServiceInstance? in
                if state.holdNext > 0 {
                    state.holdNext -= 1
                    state.held.insert(request.orderID)
                    state.heldInOrder.append(request.orderID)
                }
                defer { state.stopAfterReserve = nil }
                return state.stopAfterReserve
            }
            await stop?.stop()
            return reservation
        }

        func commit(_ request: Shop_Inventory_V1_CommitRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Reservation {
            let held = front.state.withLock { state in
                state.commitAttempts[request.orderID, default: 0] += 1
                return state.held.contains(request.orderID)
            }
            if held { throw RPCError(code: .unavailable, message: "the inventory service cannot be reached (held by the test)") }
            return try await inventory.commit(request)
        }

        func release(_ request: Shop_Inventory_V1_ReleaseRequest, context: ServerContext) async throws -> Shop_Inventory_V1_Reservation {
            try await inventory.release(request)
        }
    }
}

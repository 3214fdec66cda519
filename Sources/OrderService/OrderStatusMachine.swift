import FrameRPC
import ShopAPI

/// The order lifecycle (API.md): pending -> confirmed | cancelled,
/// confirmed -> shipped | cancelled, shipped -> delivered. Delivered and
/// cancelled are final. Every allowed move goes to a later status in the
/// enum's order, which lets watchers ignore stale updates by comparing.
enum OrderStatusMachine {
    static let moves: [Shop_Order_V1_OrderStatus: Set<Shop_Order_V1_OrderStatus>] = [
        .pending: [.confirmed, .cancelled],
        .confirmed: [.shipped, .cancelled],
        .shipped: [.delivered],
    ]

    static func canMove(from current: Shop_Order_V1_OrderStatus, to next: Shop_Order_V1_OrderStatus) -> Bool {
        moves[current]?.contains(next) ?? false
    }

    /// Whether an order in `status` will never change again.
    static func isFinal(_ status: Shop_Order_V1_OrderStatus) -> Bool {
        status == .delivered || status == .cancelled
    }

    /// FAILED_PRECONDITION unless `current -> next` is allowed.
    static func checkMove(from current: Shop_Order_V1_OrderStatus, to next: Shop_Order_V1_OrderStatus) throws {
        guard canMove(from: current, to: next) else {
            throw RPCError(
                code: .failedPrecondition,
                message: "the order is \(name(current)) and cannot become \(name(next))"
            )
        }
    }

    /// The lower-case name stored in the database and used in events.
    static func name(_ status: Shop_Order_V1_OrderStatus) -> String {
        switch status {
        case .pending: "pending"
        case .confirmed: "confirmed"
        case .shipped: "shipped"
        case .delivered: "delivered"
        case .cancelled: "cancelled"
        case .unspecified, .UNRECOGNIZED: "unspecified"
        }
    }

    static func status(named name: String) -> Shop_Order_V1_OrderStatus {
        switch name {
        case "pending": .pending
        case "confirmed": .confirmed
        case "shipped": .shipped
        case "delivered": .delivered
        case "cancelled": .cancelled
        default: .unspecified
        }
    }
}

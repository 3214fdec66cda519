import FrameRPC
import ShopAPI
import SwiftProtobuf

/// A commit that can never succeed: the reservation was released on
/// request, or it expired and its units are no longer all available.
///
/// Answered as FAILED_PRECONDITION with a `shop.inventory.v1.CommitRefusal`
/// detail, so the order service can tell it from a passing failure and
/// settle the order (cancel it) instead of retrying for ever. Callers that
/// do not read details still see the FAILED_PRECONDITION they always saw.
struct CommitRefused: Error, RPCErrorConvertible {
    let refusal: Shop_Inventory_V1_CommitRefusal

    init(orderID: String, reason: Shop_Inventory_V1_CommitRefusalReason, item: StoredReservation.Item? = nil, available: Int = 0) {
        refusal = .with {
            $0.orderID = orderID
            $0.reason = reason
            if let item {
                $0.productID = item.productID
                $0.requested = Int32(clamping: item.quantity)
                $0.available = Int32(clamping: available)
            }
        }
    }

    var rpcError: RPCError {
        let message: String
        switch refusal.reason {
        case .stockGone:
            message = "the reservation for order \(refusal.orderID) expired and product \(refusal.productID) has "
                + "\(refusal.available) available, \(refusal.requested) needed; it cannot be committed"
        default:
            message = "the reservation for order \(refusal.orderID) was released; it cannot be committed"
        }
        let details = (try? Google_Protobuf_Any(message: refusal)).map { [$0] } ?? []
        return RPCError(code: .failedPrecondition, message: message, details: details)
    }
}

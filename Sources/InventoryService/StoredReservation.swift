import ShopAPI

/// A reservation as the inventory stores it: which order holds which units,
/// and where it stands.
///
/// `reserved` holds units out of `available`; `committed` has sold them for
/// good; `released` has given them back. The only moves are
/// reserved -> committed, reserved -> released (Release or expiry) and
/// committed -> released (an order cancelled after it was confirmed).
struct StoredReservation: Sendable, Hashable {
    enum State: String, Sendable, Hashable {
        case reserved
        case committed
        case released

        var message: Shop_Inventory_V1_ReservationState {
            switch self {
            case .reserved: .reserved
            case .committed: .committed
            case .released: .released
            }
        }
    }

    struct Item: Sendable, Hashable {
        var productID: String
        var quantity: Int
    }

    var orderID: String
    var state: State
    /// In the order the reservation asked for them, one per product.
    var items: [Item]

    /// The reservation as the API shows it.
    var message: Shop_Inventory_V1_Reservation {
        .with {
            $0.orderID = orderID
            $0.state = state.message
            $0.items = items.map { item in
                .with {
                    $0.productID = item.productID
                    $0.quantity = Int32(clamping: item.quantity)
                }
            }
        }
    }
}

import ServiceSupport
import ShopAPI

/// A checked `ReserveRequest`: a canonical order id and one item per
/// product.
///
/// Items naming the same product twice are merged (their quantities added,
/// at the first one's position), so that each product is checked against
/// its stock once, for the whole amount.
struct ReservationRequest: Sendable, Hashable {
    /// The most items one request may carry.
    static let maximumItems = 1_000

    let orderID: String
    let items: [StoredReservation.Item]

    /// - Throws: INVALID_ARGUMENT naming the field: `order_id` not a UUID,
    ///   `items` empty or too many, `items[i].product_id` not a UUID,
    ///   `items[i].quantity` below 1, or a merged quantity above `int32`.
    init(_ request: Shop_Inventory_V1_ReserveRequest) throws {
        orderID = try Validation.id(request.orderID, field: "order_id")
        guard !request.items.isEmpty else { throw Validation.invalid("items", "must not be empty") }
        guard request.items.count <= Self.maximumItems else {
            throw Validation.invalid("items", "must be at most \(Self.maximumItems) items")
        }
        var merged: [StoredReservation.Item] = []
        var positions: [String: Int] = [:]
        for (index, item) in request.items.enumerated() {
            let productID = try Validation.id(item.productID, field: "items[\(index)].product_id")
            guard item.quantity >= 1 else {
                throw Validation.invalid("items[\(index)].quantity", "must be at least 1")
            }
            if let position = positions[productID] {
                merged[position].quantity += Int(item.quantity)
                guard merged[position].quantity <= Int(Int32.max) else {
                    throw Validation.invalid("items[\(index)].quantity", "adds up to more than \(Int32.max) units of product \(productID)")
                }
            } else {
                positions[productID] = merged.count
                merged.append(.init(productID: productID, quantity: Int(item.quantity)))
            }
        }
        items = merged
    }
}

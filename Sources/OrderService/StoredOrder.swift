import ShopAPI

/// An order as stored: its row and its lines, in order.
struct StoredOrder: Sendable {
    var row: OrderRow
    var items: [OrderItemRow]

    var status: Shop_Order_V1_OrderStatus { row.orderStatus }

    /// The API shape, without the embedded user (only GetOrder adds it).
    var message: Shop_Order_V1_Order {
        .with {
            $0.id = row.id
            $0.userID = row.userID
            $0.status = row.orderStatus
            $0.items = items.map(\.message)
            $0.totalAmount = row.totalAmount
            $0.createdAt = StoredTime.timestamp(row.createdAt)
            $0.updatedAt = StoredTime.timestamp(row.updatedAt)
            $0.cancellationReason = row.cancellation
            $0.statusDetail = row.statusDetail ?? ""
        }
    }
}

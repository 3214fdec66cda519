import GRDB
import ShopAPI

/// One row of the `order_items` table: a line of an order, with the unit
/// price the catalog had when the order was placed.
struct OrderItemRow: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "order_items"

    var orderID: String
    /// The line's place in the order, from 0.
    var position: Int
    var productID: String
    var quantity: Int32
    /// Integer cents.
    var unitPrice: Int64

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case position
        case productID = "product_id"
        case quantity
        case unitPrice = "unit_price"
    }

    enum Columns {
        static let orderID = Column(CodingKeys.orderID)
        static let position = Column(CodingKeys.position)
    }

    var message: Shop_Order_V1_OrderItem {
        .with {
            $0.productID = productID
            $0.quantity = quantity
            $0.unitPrice = unitPrice
        }
    }
}

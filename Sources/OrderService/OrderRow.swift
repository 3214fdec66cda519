import Foundation
import GRDB
import ShopAPI
import SwiftProtobuf

/// One row of the `orders` table.
///
/// `(user_id, idempotency_key)` is UNIQUE (several NULL keys are allowed):
/// the database guarantees that one key never names two orders of a user,
/// whatever the races between retries.
struct OrderRow: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "orders"

    var id: String
    var userID: String
    /// ``OrderStatusMachine/name(_:)`` of the status.
    var status: String
    /// Integer cents.
    var totalAmount: Int64
    var idempotencyKey: String?
    /// Microseconds since 1970, UTC.
    var createdAt: Int64
    var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case id
        case userID = "user_id"
        case status
        case totalAmount = "total_amount"
        case idempotencyKey = "idempotency_key"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let userID = Column(CodingKeys.userID)
        static let status = Column(CodingKeys.status)
        static let idempotencyKey = Column(CodingKeys.idempotencyKey)
        static let createdAt = Column(CodingKeys.createdAt)
        static let updatedAt = Column(CodingKeys.updatedAt)
    }

    var orderStatus: Shop_Order_V1_OrderStatus {
        OrderStatusMachine.status(named: status)
    }
}

/// Time as stored: whole microseconds since 1970.
enum StoredTime {
    static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
    }

    static func timestamp(_ microseconds: Int64) -> Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: Double(microseconds) / 1_000_000))
    }
}

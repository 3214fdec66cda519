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
    /// The ``RequestFingerprint`` of the request that placed the order under
    /// its idempotency key; `nil` without a key (and for orders placed
    /// before fingerprints were kept, which any request may then replay).
    var requestFingerprint: String?
    /// For a cancelled order, ``CancellationCause`` name of why.
    var cancellationReason: String?
    /// For humans: why the order has its status, when there is more to say.
    var statusDetail: String?
    /// Microseconds since 1970, UTC.
    var createdAt: Int64
    var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case id
        case userID = "user_id"
        case status
        case totalAmount = "total_amount"
        case idempotencyKey = "idempotency_key"
        case requestFingerprint = "request_fingerprint"
        case cancellationReason = "cancellation_reason"
        case statusDetail = "status_detail"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let userID = Column(CodingKeys.userID)
        static let status = Column(CodingKeys.status)
        static let idempotencyKey = Column(CodingKeys.idempotencyKey)
        static let cancellationReason = Column(CodingKeys.cancellationReason)
        static let statusDetail = Column(CodingKeys.statusDetail)
        static let createdAt = Column(CodingKeys.createdAt)
        static let updatedAt = Column(CodingKeys.updatedAt)
    }

    var orderStatus: Shop_Order_V1_OrderStatus {
        OrderStatusMachine.status(named: status)
    }

    /// Why the order was cancelled, as the API names it.
    var cancellation: Shop_Order_V1_CancellationReason {
        switch cancellationReason.flatMap(CancellationCause.init(rawValue:)) {
        case .requested: .requested
        case .stockUnavailable: .stockUnavailable
        case nil: .unspecified
        }
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

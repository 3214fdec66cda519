import Foundation
import GRDB
import ShopAPI
import SwiftProtobuf

/// One row of the `delivery` table: one notification going out through one
/// channel, with what to send (rendered once, when the notification was
/// made, so every retry sends the same bytes) and how it stands.
struct StoredDelivery: Codable, FetchableRecord, PersistableRecord, Sendable, Hashable {
    static let databaseTableName = "delivery"

    enum State: String, Sendable {
        case pending, sent, failed
    }

    var notificationID: String
    /// ``DeliveryChannelName``'s raw value.
    var channel: String
    /// The email address, or the webhook URL.
    var recipient: String
    /// The MIME message, or the webhook's JSON body.
    var content: Data
    var state: String
    var attempts: Int
    var receipt: String
    var lastError: String
    /// Microseconds since 1970: when a pending delivery is next due (also
    /// the lease of one being sent now: a crash mid-send retries after it).
    var nextAttemptAt: Int64
    var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case notificationID = "notification_id"
        case channel, recipient, content, state, attempts, receipt
        case lastError = "last_error"
        case nextAttemptAt = "next_attempt_at"
        case updatedAt = "updated_at"
    }

    enum Columns {
        static let notificationID = Column(CodingKeys.notificationID)
        static let channel = Column(CodingKeys.channel)
        static let state = Column(CodingKeys.state)
        static let attempts = Column(CodingKeys.attempts)
        static let receipt = Column(CodingKeys.receipt)
        static let lastError = Column(CodingKeys.lastError)
        static let nextAttemptAt = Column(CodingKeys.nextAttemptAt)
        static let updatedAt = Column(CodingKeys.updatedAt)
    }

    init(notificationID: String, channel: DeliveryChannelName, recipient: String, content: Data, state: State = .pending, lastError: String = "", now: Int64) {
        self.notificationID = notificationID
        self.channel = channel.rawValue
        self.recipient = recipient
        self.content = content
        self.state = state.rawValue
        self.attempts = 0
        self.receipt = ""
        self.lastError = lastError
        self.nextAttemptAt = now
        self.updatedAt = now
    }

    var message: Shop_Notification_V1_Delivery {
        .with {
            $0.channel = channel
            $0.state = state
            $0.attempts = Int32(clamping: attempts)
            $0.receipt = receipt
            $0.lastError = lastError
            $0.updatedAt = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: Double(updatedAt) / 1_000_000))
        }
    }
}

/// The channels a notification goes out through.
enum DeliveryChannelName: String, Sendable, CaseIterable {
    case email, webhook
}

/// Microseconds since 1970, as the notification tables store time.
enum DeliveryClock {
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) }

    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

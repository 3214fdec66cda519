import Foundation
import ShopAPI
import SwiftProtobuf

/// One row of the `delivery` table: one notification going out through one
/// channel, with what to send (rendered once, when the notification was
/// made, so every retry sends the same bytes) and how it stands.
struct StoredDelivery: Sendable, Hashable {
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

    /// A row as read back from the database.
    init(
        notificationID: String, channel: String, recipient: String, content: Data, state: String, attempts: Int,
        receipt: String, lastError: String, nextAttemptAt: Int64, updatedAt: Int64
    ) {
        self.notificationID = notificationID
        self.channel = channel
        self.recipient = recipient
        self.content = content
        self.state = state
        self.attempts = attempts
        self.receipt = receipt
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.updatedAt = updatedAt
    }

    /// A new delivery, due now.
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

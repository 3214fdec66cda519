import Foundation
import GRDB
import ShopAPI
import SwiftProtobuf

/// One row of the `notification` table: a notification as delivered.
///
/// `event_id` is UNIQUE: the database itself guarantees at most one
/// notification per event, whatever the races between deliveries.
struct StoredNotification: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "notification"

    var id: String
    var eventID: String
    var userID: String
    var kind: String
    var subject: String
    var body: String
    /// Microseconds since 1970, UTC.
    var createdAt: Int64

    enum CodingKeys: String, CodingKey {
        case id
        case eventID = "event_id"
        case userID = "user_id"
        case kind, subject, body
        case createdAt = "created_at"
    }

    enum Columns {
        static let eventID = Column(CodingKeys.eventID)
        static let userID = Column(CodingKeys.userID)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    init(id: String, eventID: String, userID: String, kind: String, subject: String, body: String, createdAt: Int64) {
        self.id = id
        self.eventID = eventID
        self.userID = userID
        self.kind = kind
        self.subject = subject
        self.body = body
        self.createdAt = createdAt
    }

    init(_ message: Shop_Notification_V1_Notification) {
        id = message.id
        eventID = message.eventID
        userID = message.userID
        kind = message.kind
        subject = message.subject
        body = message.body
        createdAt = Int64((message.createdAt.date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    var message: Shop_Notification_V1_Notification {
        .with {
            $0.id = id
            $0.eventID = eventID
            $0.userID = userID
            $0.kind = kind
            $0.subject = subject
            $0.body = body
            $0.createdAt = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: Double(createdAt) / 1_000_000))
        }
    }
}

import Foundation
import FrameRPC
import ServiceSupport
import ShopAPI
import SwiftProtobuf

/// The notification service's RPCs.
///
/// - `Notify` is the order service's (its outbox relay; the generated call
///   policy lets no other peer reach it), acting as itself: it renders
///   the event for the user and delivers it through the ``NotificationSink``,
///   at most once per `event_id`. Delivering an event id again answers with
///   the first notification and creates nothing, which turns the order
///   service's at-least-once outbox into exactly one notification per event.
/// - `ListNotifications` shows a user their own notifications and an admin
///   anyone's, newest first.
struct NotificationHandler: NotificationServiceHandler {
    let store: NotificationStore
    let sink: any NotificationSink
    let callers: CallerResolver

    /// Limits on what an event may carry, so one call cannot fill the disk.
    static let maximumDataEntries = 50
    static let maximumDataKeyLength = 64
    static let maximumDataValueLength = 1_000

    func notify(_ request: Shop_Notification_V1_NotifyRequest, context: ServerContext) async throws -> Shop_Notification_V1_Notification {
        try await callers.caller(of: context).requireAdmin()
        let eventID = try Validation.requiredText(request.eventID, field: "event_id")
        let userID = try Validation.id(request.userID, field: "user_id")
        let kind = try Self.validatedKind(request.kind)
        try Self.validateData(request.data)

        if let existing = try await store.notification(forEvent: eventID) {
            return existing
        }
        let message = NotificationRenderer.render(kind: kind, data: request.data)
        let notification = Shop_Notification_V1_Notification.with {
            $0.id = Validation.newID()
            $0.eventID = eventID
            $0.userID = userID
            $0.kind = kind
            $0.subject = message.subject
            $0.body = message.body
            $0.createdAt = Google_Protobuf_Timestamp(date: Date())
        }
        return try await sink.deliver(notification)
    }

    func listNotifications(_ request: Shop_Notification_V1_ListNotificationsRequest, context: ServerContext) async throws -> Shop_Notification_V1_ListNotificationsResponse {
        let userID = try await callers.caller(of: context).listingScope(requested: request.userID, noun: "notifications")
        let cursor = try PageCursor(
            pageSize: request.pageSize, pageToken: request.pageToken, skip: request.skip, limit: request.limit,
            list: "notifications", filters: [userID ?? ""], keyCount: 2
        )
        let page = try await store.list(userID: userID, cursor: cursor)
        return .with {
            $0.notifications = page.notifications
            $0.nextPageToken = cursor.nextPageToken(lastKey: page.lastKey, hasMore: page.hasMore)
        }
    }

    /// A lower-case identifier such as `order_confirmed`.
    static func validatedKind(_ value: String) throws -> String {
        let kind = try Validation.requiredText(value, field: "kind", maxLength: 64)
        let allowed = kind.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "." || scalar == "-"
        }
        guard allowed else { throw Validation.invalid("kind", "must be lower-case letters, digits, '_', '.' or '-'") }
        return kind
    }

    static func validateData(_ data: [String: String]) throws {
        guard data.count <= maximumDataEntries else {
            throw Validation.invalid("data", "must have at most \(maximumDataEntries) entries")
        }
        for (key, value) in data {
            guard !key.isEmpty, key.utf8.count <= maximumDataKeyLength * Validation.bytesPerCharacter, key.count <= maximumDataKeyLength else {
                throw Validation.invalid("data", "keys must be 1 to \(maximumDataKeyLength) characters")
            }
            try Validation.checkLength(value, field: "data.\(key)", maxLength: maximumDataValueLength)
        }
    }
}

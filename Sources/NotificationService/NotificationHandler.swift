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
///
/// Each new notification also gets one delivery per configured channel
/// (email when the request names the user's address, the webhook), shown
/// in `deliveries` by both RPCs and sent by the ``DeliveryRelay``.
struct NotificationHandler: NotificationServiceHandler {
    let store: NotificationStore
    let deliveries: DeliveryStore
    let sink: any NotificationSink
    let callers: CallerResolver
    let configuration: DeliveryConfiguration

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
        try Validation.checkLength(request.recipientEmail, field: "recipient_email", maxLength: 254)
        try Validation.checkLength(request.recipientName, field: "recipient_name", maxLength: 200)

        if var existing = try await store.notification(forEvent: eventID) {
            existing.deliveries = try await deliveries.deliveries(of: [existing.id])[existing.id] ?? []
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
        return try await sink.deliver(notification, deliveries: try outgoing(notification, request: request))
    }

    /// The deliveries of a new notification: the email rendered now (so
    /// each retry sends the same message), the webhook's JSON body. An
    /// address that cannot be mailed is recorded as a failed email rather
    /// than refusing the event: the inbox entry still matters.
    private func outgoing(_ notification: Shop_Notification_V1_Notification, request: Shop_Notification_V1_NotifyRequest) throws -> [StoredDelivery] {
        let now = DeliveryClock.now()
        var rows: [StoredDelivery] = []
        let email = request.recipientEmail.trimmingCharacters(in: .whitespaces)
        if let mail = configuration.email, !email.isEmpty {
            do {
                let message = try mail.composer.compose(notification, data: request.data, email: email, name: request.recipientName)
                rows.append(StoredDelivery(notificationID: notification.id, channel: .email, recipient: email, content: Data(message.rendered()), now: now))
            } catch {
                rows.append(StoredDelivery(
                    notificationID: notification.id, channel: .email, recipient: String(email.prefix(254)), content: Data(),
                    state: .failed, lastError: "\(error)", now: now
                ))
            }
        }
        if let webhook = configuration.webhook {
            let body = try notification.jsonUTF8Data(options: Self.webhookJSON)
            rows.append(StoredDelivery(notificationID: notification.id, channel: .webhook, recipient: webhook.url, content: body, now: now))
        }
        return rows
    }

    /// The webhook's body: the notification in the proto3 JSON mapping,
    /// with the field names of the REST API (`event_id`, `created_at`).
    static let webhookJSON: JSONEncodingOptions = {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        return options
    }()

    func listNotifications(_ request: Shop_Notification_V1_ListNotificationsRequest, context: ServerContext) async throws -> Shop_Notification_V1_ListNotificationsResponse {
        let userID = try await callers.caller(of: context).listingScope(requested: request.userID, noun: "notifications")
        let cursor = try PageCursor(
            pageSize: request.pageSize, pageToken: request.pageToken, skip: request.skip, limit: request.limit,
            list: "notifications", filters: [userID ?? ""], keyCount: 1, textKey: true
        )
        let page = try await store.list(userID: userID, cursor: cursor)
        var notifications = page.notifications
        let states = try await deliveries.deliveries(of: notifications.map(\.id))
        for index in notifications.indices {
            notifications[index].deliveries = states[notifications[index].id] ?? []
        }
        return .with {
            $0.notifications = notifications
            $0.nextPageToken = cursor.nextPageToken(
                lastKey: page.lastKey.map { [$0.createdAt] }, lastText: page.lastKey?.id, hasMore: page.hasMore
            )
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

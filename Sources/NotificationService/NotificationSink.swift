import Logging
import ShopAPI

/// Where a rendered notification goes: the delivery channel (a database, an
/// email relay, a push gateway).
///
/// The contract a sink keeps is the service's exactly-once promise: delivering
/// a notification whose `event_id` was delivered before must not deliver it
/// again, and answers with the notification delivered the first time.
public protocol NotificationSink: Sendable {
    /// Delivers `notification` once per event id and returns the
    /// notification the user got: this one, or the earlier one for the same
    /// event.
    func deliver(_ notification: Shop_Notification_V1_Notification) async throws -> Shop_Notification_V1_Notification
}

/// The default channel: the notification is stored in the service's own
/// database (the user's inbox, read by ListNotifications) and one log line
/// records the delivery.
///
/// The log line names ids and the kind only; subject, body and the event's
/// data stay out of logs because they may hold personal details.
public struct DatabaseNotificationSink: NotificationSink {
    let store: NotificationStore
    let logger: Logger

    public init(store: NotificationStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func deliver(_ notification: Shop_Notification_V1_Notification) async throws -> Shop_Notification_V1_Notification {
        let (stored, created) = try await store.insertOnce(notification)
        if created {
            logger.info("notification delivered", metadata: [
                "notification_id": "\(stored.id)",
                "event_id": "\(stored.eventID)",
                "user_id": "\(stored.userID)",
                "kind": "\(stored.kind)",
            ])
        }
        return stored
    }
}

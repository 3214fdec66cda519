import Logging
import ServiceSupport
import ShopAPI

/// Where a rendered notification goes: stored with the deliveries of its
/// channels, which the ``DeliveryRelay`` then sends.
///
/// The contract a sink keeps is the service's exactly-once promise: delivering
/// a notification whose `event_id` was delivered before must not deliver it
/// again, and answers with the notification delivered the first time.
protocol NotificationSink: Sendable {
    /// Delivers `notification` once per event id and returns the
    /// notification the user got: this one, or the earlier one for the same
    /// event, with its deliveries.
    func deliver(_ notification: Shop_Notification_V1_Notification, deliveries: [StoredDelivery]) async throws -> Shop_Notification_V1_Notification
}

/// The default channel: the notification is stored in the service's own
/// database (the user's inbox, read by ListNotifications) together with
/// one pending row per outgoing channel, in one transaction; the relay is
/// woken to send them, and one log line records the notification.
///
/// The log line names ids and the kind only; subject, body, addresses and
/// the event's data stay out of logs because they may hold personal details.
struct DatabaseNotificationSink: NotificationSink {
    let deliveries: DeliveryStore
    let doorbell: Doorbell
    let logger: Logger

    func deliver(_ notification: Shop_Notification_V1_Notification, deliveries rows: [StoredDelivery]) async throws -> Shop_Notification_V1_Notification {
        let (stored, created) = try await deliveries.insertOnce(notification, deliveries: rows)
        if created {
            if !rows.isEmpty { doorbell.ring() }
            logger.info("notification delivered", metadata: [
                "notification_id": "\(stored.id)",
                "event_id": "\(stored.eventID)",
                "user_id": "\(stored.userID)",
                "kind": "\(stored.kind)",
                "channels": "\(rows.map(\.channel).joined(separator: ","))",
            ])
        }
        return stored
    }
}

import Logging
import ServiceSupport

/// How `shop serve notification` and the tests build the notification service.
///
/// The service keeps its notifications and their deliveries in its
/// database (``ServiceDatabase``: `<data>/notification.sqlite`, or the
/// `notification` schema on PostgreSQL), stores each through
/// ``DatabaseNotificationSink`` (the stored notification is what a user
/// reads back with ListNotifications) and runs one background
/// ``DeliveryRelay`` that sends the deliveries of the channels
/// ``DeliveryConfiguration`` sets up (email over SMTP or, in dev mode,
/// `.eml` files; a signed webhook), beside the database's own background
/// work (the PostgreSQL pool). It calls no other service. With several
/// replicas on one PostgreSQL database each runs a relay; they claim
/// different deliveries (``DeliveryStore``).
public enum NotificationServiceApp {
    public static let factory: ServiceFactory = { environment in
        let callers = try await environment.callerResolver()
        var logger = environment.logger
        logger[metadataKey: "service"] = "notification"
        let configuration = try DeliveryConfiguration(environment: environment, logger: logger)
        let database = try await ServiceDatabase.open("notification", migrations: NotificationStore.migrations, environment: environment)
        let store = NotificationStore(database)
        let deliveries = DeliveryStore(store.database)
        let doorbell = Doorbell()
        let handler = NotificationHandler(
            store: store,
            deliveries: deliveries,
            sink: DatabaseNotificationSink(deliveries: deliveries, doorbell: doorbell, logger: logger),
            callers: callers,
            configuration: configuration
        )
        if configuration.email == nil {
            logger.info("email is off: SHOP_SMTP_URL is not set")
        }
        let relay = DeliveryRelay(
            store: deliveries,
            channels: configuration.channels,
            doorbell: doorbell,
            logger: logger,
            backoff: configuration.backoff,
            maximumAttempts: configuration.maximumAttempts,
            // Longer than the dozen steps of one SMTP session.
            lease: max(.seconds(60), configuration.timeout * 12),
            metrics: environment.metrics
        )
        return RunnableService(handler: handler, background: database.services + [relay])
    }
}

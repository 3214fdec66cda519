import Logging
import ServiceSupport

/// How `shop serve notification` and the tests build the notification service.
///
/// The service keeps its notifications in its database (``ServiceDatabase``:
/// `<data>/notification.sqlite`, or the `notification` schema on PostgreSQL) and
/// delivers through ``DatabaseNotificationSink`` (the stored notification is
/// what a user reads back with ListNotifications). It calls no other service
/// and runs no background work.
public enum NotificationServiceApp {
    public static let factory: ServiceFactory = { environment in
        let callers = try await environment.callerResolver()
        let database = try await ServiceDatabase.open("notification", migrations: NotificationStore.migrations, environment: environment)
        let store = NotificationStore(database)
        var logger = environment.logger
        logger[metadataKey: "service"] = "notification"
        let handler = NotificationHandler(
            store: store,
            sink: DatabaseNotificationSink(store: store, logger: logger),
            callers: callers
        )
        return RunnableService(handler: handler, background: database.services)
    }
}

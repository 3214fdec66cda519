import ServiceSupport

/// How `shop serve notification` and the tests build the notification service.
public enum NotificationServiceApp {
    public static let factory: ServiceFactory = { _ in
        throw ConfigurationError("the notification service is not implemented yet")
    }
}

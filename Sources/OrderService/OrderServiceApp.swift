import ServiceSupport

/// How `shop serve order` and the tests build the order service.
public enum OrderServiceApp {
    public static let factory: ServiceFactory = { _ in
        throw ConfigurationError("the order service is not implemented yet")
    }
}

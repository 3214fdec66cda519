import ServiceSupport

/// How `shop serve user` and the tests build the user service.
public enum UserServiceApp {
    public static let factory: ServiceFactory = { _ in
        throw ConfigurationError("the user service is not implemented yet")
    }
}

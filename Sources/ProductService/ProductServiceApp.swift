import ServiceSupport

/// How `shop serve product` and the tests build the product service.
public enum ProductServiceApp {
    public static let factory: ServiceFactory = { _ in
        throw ConfigurationError("the product service is not implemented yet")
    }
}

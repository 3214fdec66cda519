import ServiceSupport

/// How `shop serve inventory` and the tests build the inventory service.
public enum InventoryServiceApp {
    public static let factory: ServiceFactory = { _ in
        throw ConfigurationError("the inventory service is not implemented yet")
    }
}

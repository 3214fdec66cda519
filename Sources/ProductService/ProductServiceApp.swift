import ServiceSupport

/// How `shop serve product` and the tests build the product service: the
/// catalog in `<data>/product.sqlite`, served by ``ProductHandler``. It calls
/// no other service and runs no background work.
public enum ProductServiceApp {
    public static let factory: ServiceFactory = { environment in
        let callers = try await environment.callerResolver()
        let store = try ProductStore(path: environment.databasePath("product"), metrics: environment.metrics)
        return RunnableService(handler: ProductHandler(store: store, callers: callers))
    }
}

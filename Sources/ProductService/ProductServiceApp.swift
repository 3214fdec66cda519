import ServiceSupport

/// How `shop serve product` and the tests build the product service: the
/// catalog in its database (``ServiceDatabase``: `<data>/product.sqlite`,
/// or the `product` schema on PostgreSQL), served by ``ProductHandler``. It
/// calls no other service; its only background work is the database's.
public enum ProductServiceApp {
    public static let factory: ServiceFactory = { environment in
        let callers = try await environment.callerResolver()
        let database = try await ServiceDatabase.open("product", migrations: ProductStore.migrations, environment: environment)
        return RunnableService(handler: ProductHandler(store: ProductStore(database), callers: callers), background: database.services)
    }
}

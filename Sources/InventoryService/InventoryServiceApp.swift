import ServiceSupport

/// How `shop serve inventory` and the tests build the inventory service:
/// stock and reservations in `<data>/inventory.sqlite`, served by
/// ``InventoryHandler``, with ``ReservationExpiry`` as background work.
///
/// Settings: `SHOP_RESERVATION_TTL_SECONDS` (default 900) and
/// `SHOP_RESERVATION_SWEEP_SECONDS` (see ``ReservationPolicy``).
public enum InventoryServiceApp {
    public static let factory: ServiceFactory = { environment in
        let callers = try await environment.callerResolver()
        let policy = try ReservationPolicy(environment: environment)
        let store = try InventoryStore(path: environment.databasePath("inventory"), metrics: environment.metrics)
        return RunnableService(
            handler: InventoryHandler(store: store, policy: policy, callers: callers),
            background: [ReservationExpiry(store: store, policy: policy, logger: environment.logger)]
        )
    }
}

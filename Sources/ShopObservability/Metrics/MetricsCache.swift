import Synchronization

/// Metric handles by their label values, made once and then looked up.
///
/// Creating a swift-metrics `Counter` asks the factory, which locks its
/// registry and hashes the name and every label; a hot path that records
/// per call looks its handles up here instead, under one short lock.
public final class MetricsCache<Key: Hashable & Sendable, Handles: Sendable>: Sendable {
    private let handles = Mutex<[Key: Handles]>([:])
    private let make: @Sendable (Key) -> Handles

    public init(_ make: @escaping @Sendable (Key) -> Handles) {
        self.make = make
    }

    /// The handles for `key`, made on first use.
    public func callAsFunction(_ key: Key) -> Handles {
        if let existing = handles.withLock({ $0[key] }) { return existing }
        let made = make(key)
        return handles.withLock { handles in
            if let existing = handles[key] { return existing }
            handles[key] = made
            return made
        }
    }
}

/// Joins concurrent CreateOrder calls that carry the same user,
/// idempotency key and request (``RequestFingerprint``) in this process: the first one places the order, the
/// others wait for it and get the same outcome (the same order, or the
/// same error).
///
/// Without it, a retry racing its original would reserve stock a second
/// time and could fail for lack of stock while the original succeeds. The
/// UNIQUE(user_id, idempotency_key) index still decides between processes.
actor PlacementCoalescer {
    private var inFlight: [Key: Task<StoredOrder, any Error>] = [:]

    struct Key: Hashable, Sendable {
        let userID: String
        let idempotencyKey: String
        let fingerprint: String
    }

    /// Runs `operation`, or joins the run already under way for `key`.
    /// The run is a task of its own (inheriting the caller's task-locals,
    /// hence its deadline): one caller leaving does not cancel it for the
    /// others.
    func run(_ key: Key, _ operation: @escaping @Sendable () async throws -> StoredOrder) async throws -> StoredOrder {
        if let running = inFlight[key] {
            return try await running.value
        }
        let task = Task { try await operation() }
        inFlight[key] = task
        defer { inFlight[key] = nil }
        return try await task.value
    }
}

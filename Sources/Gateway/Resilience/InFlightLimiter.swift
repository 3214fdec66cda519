import Synchronization

/// A cap on the requests the gateway handles at once. Past the cap a
/// request is refused at once (429) instead of queueing behind the others,
/// so an overload shows up as fast refusals rather than as every caller's
/// deadline passing.
final class InFlightLimiter: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot; `false` when all are taken. Each success needs a ``release()``.
    func tryAcquire() -> Bool {
        let inFlight = count.wrappingAdd(1, ordering: .relaxed).newValue
        guard inFlight <= limit else {
            count.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Requests in flight now.
    var inFlight: Int { count.load(ordering: .relaxed) }
}

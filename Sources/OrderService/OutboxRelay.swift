import CoreMetrics
import FrameRPC
import Logging
import ServiceLifecycle
import ServiceSupport
import ShopObservability
import Tracing

/// Delivers one destination's outbox events until each is acknowledged: the
/// "at least once" half of exactly-once delivery (the receiver ignores an
/// event it has already seen, which is the other half).
///
/// Every replica of the order service runs its relays on the one outbox:
/// each round claims its events (``OrderStore/claimDueEvents(for:now:limit:)``),
/// so relays never deliver the same event at once; an event whose relay
/// died is claimed again once its claim ends (at least once).
///
/// A background `Service`. Each round takes the events that are due (per
/// order, its oldest undelivered event that no other relay holds;
/// ``OrderStore/claimDueEvents(for:now:limit:)``),
/// delivers up to ``concurrency`` of them at a time and marks each delivered
/// only after the receiver acknowledged it. An event that fails waits out its
/// own exponential backoff with jitter (`next_attempt_at`), and only the
/// later events of its order wait with it: one failing event never holds
/// back other orders. When nothing is due it waits for the doorbell, the
/// next retry or a poll interval, whichever comes first. An event the
/// receiver refuses for good (a caller error such as INVALID_ARGUMENT) is
/// marked abandoned and logged; deliveries that must never be abandoned
/// (inventory commits) settle their refusals themselves
/// (``InventoryDelivery``). It stops on graceful shutdown or cancellation.
///
/// Each delivery runs in the trace and request its event was written for
/// (``OutboxEvent/Origin``), so its call and its log lines carry the trace
/// id of the request that caused it. Its metrics, by `destination`:
/// `outbox_pending_events` (the backlog after each round),
/// `outbox_events_delivered_total`, `outbox_delivery_failures_total`
/// (attempts that will be retried) and `outbox_events_abandoned_total`.
final class OutboxRelay: Service, Sendable {
    typealias Delivery = @Sendable (OutboxEvent) async throws -> Void

    let destination: OutboxEvent.Destination
    private let store: OrderStore
    private let doorbell: Doorbell
    private let deliver: Delivery
    private let logger: Logger
    private let pollInterval: Duration
    private let backoff: RPCClient.Backoff
    private let batchSize = OrderStore.claimBatch
    private let pending: Gauge
    private let delivered: Counter
    private let failures: Counter
    private let abandoned: Counter

    init(
        destination: OutboxEvent.Destination,
        store: OrderStore,
        doorbell: Doorbell,
        logger: Logger,
        pollInterval: Duration = .seconds(1),
        backoff: RPCClient.Backoff = RPCClient.Backoff(initial: .milliseconds(100), maximum: .seconds(5)),
        metrics: MetricsRegistry = .shared,
        deliver: @escaping Delivery
    ) {
        let dimensions = [("destination", destination.rawValue)]
        pending = Gauge(label: "outbox_pending_events", dimensions: dimensions, factory: metrics.factory)
        delivered = Counter(label: "outbox_events_delivered_total", dimensions: dimensions, factory: metrics.factory)
        failures = Counter(label: "outbox_delivery_failures_total", dimensions: dimensions, factory: metrics.factory)
        abandoned = Counter(label: "outbox_events_abandoned_total", dimensions: dimensions, factory: metrics.factory)
        self.destination = destination
        self.store = store
        self.doorbell = doorbell
        self.deliver = deliver
        self.logger = logger
        self.pollInterval = pollInterval
        self.backoff = backoff
    }

    /// Deliveries in flight at once, each for a different order.
    let concurrency = 8

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.relay() }
    }

    private func relay() async {
        var readFailures = 0
        while !Task.isCancelled {
            switch await deliverRound() {
            case .progressed:
                readFailures = 0
            case .waiting(let nextRetry):
                readFailures = 0
                var wait = pollInterval
                if let nextRetry {
                    let untilRetry = Duration.microseconds(max(0, nextRetry - StoredTime.now()))
                    wait = min(wait, untilRetry)
                }
                await doorbell.wait(upTo: wait)
            case .storeFailed:
                readFailures += 1
                try? await Task.sleep(for: backoff.delay(afterFailures: readFailures))
            }
        }
    }

    private enum Round {
        /// Some event was delivered (its order's next may now be due).
        case progressed
        /// Nothing was delivered; the earliest backoff ends at `nextRetry`.
        case waiting(nextRetry: Int64?)
        /// The outbox could not be read.
        case storeFailed
    }

    /// Delivers the events due now, a few at a time.
    private func deliverRound() async -> Round {
        let now = StoredTime.now()
        let batch: [OutboxEvent]
        do {
            batch = try await store.claimDueEvents(for: destination, now: now, limit: batchSize)
        } catch {
            logger.error("outbox read failed", metadata: ["destination": "\(destination.rawValue)", "error": "\(error)"])
            return .storeFailed
        }
        await recordBacklog()
        if batch.isEmpty {
            return .waiting(nextRetry: try? await store.nextRetry(for: destination, after: now))
        }
        let settledCount = await withTaskGroup(of: Bool.self) { group in
            var queued = batch.makeIterator()
            for _ in 0..<concurrency {
                guard let event = queued.next() else { break }
                group.addTask { await self.settleInContext(event) }
            }
            var settled = 0
            while let done = await group.next() {
                if done { settled += 1 }
                if !Task.isCancelled, let event = queued.next() {
                    group.addTask { await self.settleInContext(event) }
                }
            }
            return settled
        }
        await recordBacklog()
        if settledCount > 0 { return .progressed }
        return .waiting(nextRetry: try? await store.nextRetry(for: destination, after: StoredTime.now()))
    }

    private func recordBacklog() async {
        if let count = try? await store.pendingCount(for: destination) { pending.record(count) }
    }

    /// ``settle(_:)`` in the trace the event was written for.
    private func settleInContext(_ event: OutboxEvent) async -> Bool {
        await ServiceContext.withValue(event.origin.deliveryContext) { await settle(event) }
    }

    /// Delivers one event; `false` when it failed and must be retried.
    private func settle(_ event: OutboxEvent) async -> Bool {
        do {
            try await deliver(event)
            try await store.markDelivered(eventID: event.id)
            delivered.increment()
        } catch let error as RPCError where Self.isPermanent(error) {
            logger.error("outbox event refused; giving up on it", metadata: metadata(event, error))
            try? await store.markAbandoned(eventID: event.id, reason: error.description)
            abandoned.increment()
        } catch {
            if Task.isCancelled { return false }
            logger.warning("outbox delivery failed; will retry", metadata: metadata(event, error))
            let retryAt = StoredTime.now() + Self.microseconds(backoff.delay(afterFailures: event.attempts + 1))
            try? await store.recordFailure(eventID: event.id, reason: "\(error)", retryAt: retryAt)
            failures.increment()
            return false
        }
        return true
    }

    private static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    private func metadata(_ event: OutboxEvent, _ error: any Error) -> Logger.Metadata {
        [
            "destination": "\(destination.rawValue)",
            "event_id": "\(event.id)",
            "kind": "\(event.kind)",
            "order_id": "\(event.orderID)",
            "attempts": "\(event.attempts + 1)",
            "error": "\(error)",
        ]
    }

    /// Errors that retrying cannot fix: the receiver understood the event
    /// and refused it. Refusals that a fixed configuration can cure
    /// (PERMISSION_DENIED, UNAUTHENTICATED, UNIMPLEMENTED during a rolling
    /// upgrade) are retried instead: giving up would lose the event.
    static func isPermanent(_ error: RPCError) -> Bool {
        [.invalidArgument, .notFound, .alreadyExists, .failedPrecondition, .outOfRange].contains(error.code)
    }
}

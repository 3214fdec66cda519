import CoreMetrics
import FrameRPC
import Logging
import ServiceLifecycle
import ShopObservability
import Tracing

/// Delivers one destination's outbox events until each is acknowledged: the
/// "at least once" half of exactly-once delivery (the receiver ignores an
/// event it has already seen, which is the other half).
///
/// A background `Service`: it takes the oldest undelivered events, hands
/// each to ``deliver`` in order and marks it delivered only after the
/// receiver acknowledged it. On a failure it stops the round (keeping the
/// order of events) and waits with exponential backoff and jitter before
/// trying again; when idle it waits for the doorbell or a poll interval.
/// An event the receiver refuses for good (a caller error such as
/// INVALID_ARGUMENT) is marked abandoned and logged, so one bad event cannot
/// block the rest. It stops on graceful shutdown or cancellation.
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
    private let batchSize = 100
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

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.relay() }
    }

    private func relay() async {
        var failures = 0
        while !Task.isCancelled {
            switch await deliverRound() {
            case .idle:
                failures = 0
                await doorbell.wait(upTo: pollInterval)
            case .progressed:
                failures = 0
            case .failed:
                failures += 1
                try? await Task.sleep(for: backoff.delay(afterFailures: failures))
            }
        }
    }

    private enum Round {
        case idle, progressed, failed
    }

    /// Delivers one batch in order; stops at the first failure.
    private func deliverRound() async -> Round {
        let batch: [OutboxEvent]
        do {
            batch = try await store.pendingEvents(for: destination, limit: batchSize)
        } catch {
            logger.error("outbox read failed", metadata: ["destination": "\(destination.rawValue)", "error": "\(error)"])
            return .failed
        }
        // A batch smaller than the limit is the whole backlog; only a
        // full one needs counting.
        var backlog = batch.count
        if batch.count == batchSize, let count = try? await store.pendingCount(for: destination) { backlog = count }
        pending.record(backlog)
        if batch.isEmpty { return .idle }
        for event in batch {
            if Task.isCancelled { return .progressed }
            let settled = await ServiceContext.withValue(event.origin.deliveryContext) { await settle(event) }
            guard settled else { return .failed }
            backlog -= 1
            pending.record(backlog)
        }
        return .progressed
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
            if Task.isCancelled { return true }
            logger.warning("outbox delivery failed; will retry", metadata: metadata(event, error))
            try? await store.recordFailure(eventID: event.id, reason: "\(error)")
            failures.increment()
            return false
        }
        return true
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

import FrameRPC
import Logging
import ServiceLifecycle

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

    init(
        destination: OutboxEvent.Destination,
        store: OrderStore,
        doorbell: Doorbell,
        logger: Logger,
        pollInterval: Duration = .seconds(1),
        backoff: RPCClient.Backoff = RPCClient.Backoff(initial: .milliseconds(100), maximum: .seconds(5)),
        deliver: @escaping Delivery
    ) {
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
        if batch.isEmpty { return .idle }
        for event in batch {
            if Task.isCancelled { return .progressed }
            do {
                try await deliver(event)
                try await store.markDelivered(eventID: event.id)
            } catch let error as RPCError where Self.isPermanent(error) {
                logger.error("outbox event refused; giving up on it", metadata: metadata(event, error))
                try? await store.markAbandoned(eventID: event.id, reason: error.description)
            } catch {
                if Task.isCancelled { return .progressed }
                logger.warning("outbox delivery failed; will retry", metadata: metadata(event, error))
                try? await store.recordFailure(eventID: event.id, reason: "\(error)")
                return .failed
            }
        }
        return .progressed
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

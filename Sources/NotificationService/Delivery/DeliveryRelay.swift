import CoreMetrics
import FrameRPC
import Logging
import ServiceLifecycle
import ServiceSupport
import ShopObservability

/// Sends the stored deliveries until each is sent or given up: the
/// notification service's own outbox, driven as the order service drives
/// its (``DeliveryStore`` rows, exponential backoff with jitter in
/// `next_attempt_at`, a doorbell and a poll interval), so retries survive a
/// restart.
///
/// A background `Service` in the notification service's group. Each round
/// claims the due rows (leased for ``lease``), sends up to ``concurrency``
/// at a time through their channel and records the outcome: `sent` with
/// the receipt; a permanent failure (``DeliveryFailure/permanent``) or the
/// ``maximumAttempts``-th failure `failed` with the reason; any other
/// failure pending again after its backoff. On graceful shutdown it stops
/// and then shuts its channels down (the webhook's HTTP client), so they
/// live exactly as long as it does.
///
/// Metrics, by `channel`: `notification_deliveries_sent_total`,
/// `notification_delivery_retries_total` (failed attempts to be retried),
/// `notification_deliveries_failed_total` (given up: permanent failures
/// and exhausted retries) and `notification_deliveries_pending` (gauge).
final class DeliveryRelay: Service, Sendable {
    private let store: DeliveryStore
    private let channels: [DeliveryChannelName: any DeliveryChannel]
    private let doorbell: Doorbell
    private let logger: Logger
    private let backoff: RPCClient.Backoff
    private let maximumAttempts: Int
    private let pollInterval: Duration
    /// How long a claimed row stays leased: longer than any one send.
    let lease: Duration
    let concurrency = 4
    private let sent: [DeliveryChannelName: Counter]
    private let retries: [DeliveryChannelName: Counter]
    private let failed: [DeliveryChannelName: Counter]
    private let pending: Gauge

    init(
        store: DeliveryStore,
        channels: [any DeliveryChannel],
        doorbell: Doorbell,
        logger: Logger,
        backoff: RPCClient.Backoff,
        maximumAttempts: Int,
        lease: Duration,
        pollInterval: Duration = .seconds(1),
        metrics: MetricsRegistry = .shared
    ) {
        self.store = store
        self.channels = Dictionary(uniqueKeysWithValues: channels.map { ($0.name, $0) })
        self.doorbell = doorbell
        self.logger = logger
        self.backoff = backoff
        self.maximumAttempts = maximumAttempts
        self.lease = lease
        self.pollInterval = pollInterval
        func counters(_ label: String) -> [DeliveryChannelName: Counter] {
            Dictionary(uniqueKeysWithValues: DeliveryChannelName.allCases.map {
                ($0, Counter(label: label, dimensions: [("channel", $0.rawValue)], factory: metrics.factory))
            })
        }
        sent = counters("notification_deliveries_sent_total")
        retries = counters("notification_delivery_retries_total")
        failed = counters("notification_deliveries_failed_total")
        pending = Gauge(label: "notification_deliveries_pending", factory: metrics.factory)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.relay() }
        for channel in channels.values { await channel.shutdown() }
    }

    private func relay() async {
        var readFailures = 0
        while !Task.isCancelled {
            let batch: [StoredDelivery]
            do {
                batch = try await store.claimDue(now: DeliveryClock.now(), lease: DeliveryClock.microseconds(lease), limit: 50)
                readFailures = 0
            } catch {
                readFailures += 1
                logger.error("delivery read failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.delay(afterFailures: readFailures))
                continue
            }
            if batch.isEmpty {
                if let count = try? await store.pendingCount() { pending.record(count) }
                var wait = pollInterval
                if let next = try? await store.nextDue() {
                    wait = min(wait, .microseconds(max(0, next - DeliveryClock.now())))
                }
                await doorbell.wait(upTo: wait)
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                var queued = batch.makeIterator()
                for _ in 0..<concurrency {
                    guard let delivery = queued.next() else { break }
                    group.addTask { await self.attempt(delivery) }
                }
                while await group.next() != nil {
                    if !Task.isCancelled, let delivery = queued.next() {
                        group.addTask { await self.attempt(delivery) }
                    }
                }
            }
        }
    }

    /// One attempt at one delivery, its outcome recorded.
    private func attempt(_ delivery: StoredDelivery) async {
        guard let name = DeliveryChannelName(rawValue: delivery.channel) else { return }
        let metadata: Logger.Metadata = [
            "notification_id": "\(delivery.notificationID)",
            "channel": "\(delivery.channel)",
            "attempt": "\(delivery.attempts + 1)",
        ]
        do throws(DeliveryFailure) {
            guard let channel = channels[name] else {
                // Configured when the notification was made, not now: wait
                // for the configuration to come back rather than lose it.
                throw DeliveryFailure(reason: "the \(name.rawValue) channel is not configured", permanent: false)
            }
            let receipt = try await channel.send(delivery)
            try? await store.markSent(delivery, receipt: receipt)
            sent[name]?.increment()
            logger.info("notification sent", metadata: metadata)
        } catch {
            if Task.isCancelled { return }
            let attempts = delivery.attempts + 1
            if error.permanent || attempts >= maximumAttempts {
                let reason = error.permanent ? error.reason : "\(error.reason) (gave up after \(attempts) attempts)"
                try? await store.markFailed(delivery, reason: reason)
                failed[name]?.increment()
                logger.error("notification delivery failed for good", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
            } else {
                let retryAt = DeliveryClock.now() + DeliveryClock.microseconds(backoff.delay(afterFailures: attempts))
                try? await store.recordFailure(delivery, reason: error.reason, retryAt: retryAt)
                retries[name]?.increment()
                logger.warning("notification delivery failed; will retry", metadata: metadata.merging(["error": "\(error.reason)"]) { $1 })
            }
        }
    }
}

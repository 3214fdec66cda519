import Foundation
import Logging
import ServiceLifecycle

/// Releases reservations that were not committed within the TTL, so that an
/// order service that crashed between Reserve and Commit never holds stock
/// forever.
///
/// A `ServiceLifecycle.Service` run beside the server: it sweeps once at
/// start (catching up on what expired while the process was down), then
/// every ``ReservationPolicy/sweepInterval``, until the service group shuts
/// down gracefully or its task is cancelled. A failed sweep is logged and
/// retried on the next tick; it never stops the service.
struct ReservationExpiry: Service {
    /// Reservations released per transaction, so one sweep never holds the
    /// write lock for long.
    static let batchSize = 200

    let store: InventoryStore
    let policy: ReservationPolicy
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try Task.checkCancellation()
                    await self.sweep()
                    try await Task.sleep(for: self.policy.sweepInterval)
                }
            }
        } catch is CancellationError {
            // Shutdown or cancellation: stopping is the expected outcome.
        }
    }

    /// Releases everything expired by now, a batch at a time.
    func sweep() async {
        do {
            var total = 0
            while !Task.isCancelled {
                let released = try await store.releaseExpired(now: Date(), limit: Self.batchSize)
                total += released
                if released < Self.batchSize { break }
            }
            if total > 0 {
                logger.info("released expired reservations", metadata: ["count": "\(total)"])
            }
        } catch is CancellationError {
            return
        } catch {
            logger.error("expiry sweep failed; retrying on the next tick", metadata: ["error": "\(error)"])
        }
    }
}

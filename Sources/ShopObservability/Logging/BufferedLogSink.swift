import CoreMetrics
import ServiceLifecycle
import Synchronization

/// A log sink that keeps writing off the request path: ``write(_:)`` copies
/// the line into a bounded in-memory buffer and returns, and a writer task
/// (``run()``, a service of the process's service group) hands everything
/// buffered to the target sink in one call, so one `write(2)` carries many
/// lines instead of one system call (and one lock hand-off between threads)
/// per line.
///
/// The contract:
/// - Lines reach the target whole and in the order ``write(_:)`` was
///   called (so in order per task, and across tasks in the order their
///   calls took the lock).
/// - The buffer holds at most `capacity` bytes. A line that does not fit is
///   dropped, never waited for: logging must not slow a request down when
///   the output is slow (a full pipe, a stalled terminal). Each drop counts
///   in `shop_log_lines_dropped_total` and ``droppedLines``.
/// - Before ``run()`` starts and after it ends (startup errors, the last
///   lines of a shutdown), lines go straight to the target, as a plain
///   sink would write them: nothing waits for a writer that is not there.
/// - On graceful shutdown or cancellation ``run()`` writes what is left and
///   returns. Put this service first in its group, so that it stops last
///   and the lines of the others' shutdown are written too.
public final class BufferedLogSink: LogSink, Service {
    /// 1 MiB: several thousand lines, a few seconds of a busy gateway.
    public static let defaultCapacity = 1 << 20
    /// How long the writer lets lines gather after the first one arrives:
    /// short enough that a line is on its way within a blink, long enough
    /// that a busy process writes hundreds of lines per system call.
    public static let defaultGatherInterval = Duration.milliseconds(5)

    private struct State {
        var pending: [UInt8] = []
        /// The writer, parked until a line arrives.
        var waiter: CheckedContinuation<Void, Never>?
        /// The writer, gathering lines until the interval is over or the sink closes.
        var closeWaiter: CheckedContinuation<Void, Never>?
        /// Whether ``run()`` is draining the buffer; when not, lines go straight to the target.
        var running = false
        /// Set on shutdown: the writer writes what is left and stops.
        var closing = false
    }

    private let target: any LogSink
    private let capacity: Int
    private let gatherInterval: Duration
    private let state = Mutex(State())
    private let dropped = Atomic<Int>(0)
    private let dropCounter: Counter

    /// - Parameters:
    ///   - target: where batches go (standard error in a process).
    ///   - capacity: bytes the buffer holds at most.
    ///   - gatherInterval: how long the writer waits for more lines before a write.
    ///   - metrics: where `shop_log_lines_dropped_total` is recorded.
    public init(
        target: any LogSink,
        capacity: Int = BufferedLogSink.defaultCapacity,
        gatherInterval: Duration = BufferedLogSink.defaultGatherInterval,
        metrics: MetricsRegistry = .shared
    ) {
        self.target = target
        self.capacity = capacity
        self.gatherInterval = gatherInterval
        self.dropCounter = Counter(label: "shop_log_lines_dropped_total", factory: metrics.factory)
    }

    /// Lines dropped so far because the buffer was full.
    public var droppedLines: Int { dropped.load(ordering: .relaxed) }

    public func write(_ line: [UInt8]) {
        enum Next { case buffered(CheckedContinuation<Void, Never>?), direct, dropped }
        let next: Next = state.withLock { state in
            guard state.running else { return .direct }
            guard state.pending.count + line.count <= capacity else { return .dropped }
            if state.pending.isEmpty { state.pending.reserveCapacity(min(capacity, 64 * 1024)) }
            state.pending.append(contentsOf: line)
            let waiter = state.waiter
            state.waiter = nil
            return .buffered(waiter)
        }
        switch next {
        case .buffered(let waiter):
            waiter?.resume()
        case .direct:
            target.write(line)
        case .dropped:
            dropped.add(1, ordering: .relaxed)
            dropCounter.increment()
        }
    }

    /// Drains the buffer into the target until graceful shutdown or
    /// cancellation, then writes what is left.
    public func run() async {
        state.withLock { $0.running = true; $0.closing = false }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                while let batch = await nextBatch() {
                    target.write(batch)
                }
            } onCancel: {
                self.close()
            }
        } onGracefulShutdown: {
            self.close()
        }
        // Whatever arrived between the last batch and here, then back to
        // writing straight through.
        // Written under the lock, so that no line sent straight through
        // overtakes the buffered ones.
        state.withLock { state in
            state.running = false
            if !state.pending.isEmpty { target.write(swap(&state.pending)) }
        }
    }

    /// Everything buffered, after waiting for a first line and then for
    /// ``gatherInterval``; `nil` once closing and nothing is left.
    private func nextBatch() async -> [UInt8]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state in
                if !state.pending.isEmpty || state.closing { return true }
                state.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
        // Let more lines gather, unless the sink is closing: shutdown ends
        // the wait at once.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [gatherInterval] in try? await Task.sleep(for: gatherInterval) }
            group.addTask { await self.closed() }
            await group.next()
            group.cancelAll()
        }
        return state.withLock { state in
            if state.pending.isEmpty { return state.closing ? nil : [] }
            return swap(&state.pending)
        }
    }

    /// Returns once the sink is closing, or when the calling task is cancelled.
    private func closed() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state in
                    // Checked under the lock: `onCancel` takes it too, after
                    // the flag is set, so either it sees the stored waiter or
                    // this sees the flag.
                    if state.closing || Task.isCancelled { return true }
                    state.closeWaiter = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                let waiter = state.closeWaiter
                state.closeWaiter = nil
                return waiter
            }
            waiter?.resume()
        }
    }

    private func close() {
        let waiters = state.withLock { state in
            state.closing = true
            let waiters = (state.waiter, state.closeWaiter)
            state.waiter = nil
            state.closeWaiter = nil
            return waiters
        }
        waiters.0?.resume()
        waiters.1?.resume()
    }
}

private func swap(_ bytes: inout [UInt8]) -> [UInt8] {
    var taken: [UInt8] = []
    Swift.swap(&taken, &bytes)
    return taken
}

import FrameRPC
import Foundation
import Synchronization

/// A few dedicated threads for CPU-heavy blocking work (password hashing),
/// so that it never occupies a NIO event loop or one of Swift concurrency's
/// cooperative threads.
///
/// Why: a PBKDF2 derivation with 600,000 rounds holds a core for a large
/// fraction of a second. Run on the cooperative pool (as many threads as
/// cores), a handful of concurrent registrations would take every thread and
/// every other call on the service (reads included) would wait for them. Here
/// they queue for `threadCount` threads of their own, which by default leave
/// one core to the rest of the service, and the waiting callers are suspended,
/// not blocked.
///
/// Work waits in FIFO order, and the queue refuses at once (RESOURCE_EXHAUSTED)
/// rather than letting a caller wait for nothing:
/// - when `maximumPending` jobs wait already;
/// - when the caller's deadline would pass before its job is done, judged
///   from the jobs ahead of it and the average time of the latest jobs
///   (``estimatedCompletion(now:)``). A few hundred logins at once thus get
///   fast refusals the gateway answers 429, instead of each waiting until
///   its deadline and ending as a timeout (which opens circuits and takes
///   routes that never hash down with them).
///
/// A job whose caller was cancelled (its call was cancelled or ran out of
/// time) before a thread took it is skipped.
final class BlockingWorkPool: Sendable {
    /// One core fewer than the machine has, at least one.
    static var defaultThreadCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount - 1) }

    private let shared: Shared
    let threadCount: Int

    /// Jobs that may wait by default: a bound on memory. What bounds the
    /// wait is the deadline check (at 600,000 rounds, about 75 ms a job on
    /// one thread, a 5 s deadline admits some 50 jobs ahead).
    static let defaultMaximumPending = 256

    init(name: String, threadCount: Int = BlockingWorkPool.defaultThreadCount, maximumPending: Int = BlockingWorkPool.defaultMaximumPending) {
        precondition(threadCount > 0 && maximumPending > 0)
        self.threadCount = threadCount
        shared = Shared(maximumPending: maximumPending)
        for index in 0..<threadCount {
            let shared = self.shared
            let thread = Thread { shared.workLoop() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    deinit {
        // Workers hold `shared`, not the pool: stop them and fail what waits.
        let abandoned = shared.state.withLock { state -> [Job] in
            state.stopped = true
            defer { state.jobs.removeAll() }
            return state.jobs
        }
        for job in abandoned { job.abandon() }
        for _ in 0..<threadCount { shared.wakeUp.signal() }
    }

    /// Runs `work` on one of the pool's threads and returns its result.
    ///
    /// - Parameter deadline: when the caller stops waiting; by default the
    ///   deadline of the RPC being served. A job that could not be done by
    ///   then is refused at once with RESOURCE_EXHAUSTED.
    func run<T: Sendable>(
        deadline: ContinuousClock.Instant? = ServerContext.current?.deadline,
        _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try Task.checkCancellation()
        let ticket = Ticket()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let job = Job(
                    ticket: ticket,
                    perform: { continuation.resume(with: Result { try work() }) },
                    refuse: { continuation.resume(throwing: $0) }
                )
                let threads = threadCount
                let now = ContinuousClock.now
                let accepted = shared.state.withLock { state -> Bool in
                    guard !state.stopped, state.jobs.count < shared.maximumPending else { return false }
                    if let deadline, state.estimatedCompletion(now: now, threads: threads) > deadline { return false }
                    state.jobs.append(job)
                    return true
                }
                if accepted {
                    shared.wakeUp.signal()
                } else {
                    job.refuse(RPCError(code: .resourceExhausted, message: "too many password operations in progress; try again later"))
                }
            }
        } onCancel: {
            ticket.cancelled.store(true, ordering: .relaxed)
        }
    }

    private final class Ticket: Sendable {
        let cancelled = Atomic<Bool>(false)
    }

    private struct Job: Sendable {
        let ticket: Ticket
        let perform: @Sendable () -> Void
        let refuse: @Sendable (any Error) -> Void

        /// Runs the job unless its caller left; whether it ran.
        func execute() -> Bool {
            if ticket.cancelled.load(ordering: .relaxed) {
                refuse(CancellationError())
                return false
            }
            perform()
            return true
        }

        func abandon() {
            refuse(RPCError(code: .unavailable, message: "the service is shutting down"))
        }
    }

    private struct State {
        var jobs: [Job] = []
        var stopped = false
        /// Jobs a thread is running now.
        var running = 0
        /// Moving average of the latest jobs' durations; zero until one ran.
        var averageJob: Duration = .zero

        /// When a job queued now would be done: the jobs ahead of it spread
        /// over the threads, then its own, with half as much again for the
        /// variance of a busy machine (a job accepted is one that finishes).
        func estimatedCompletion(now: ContinuousClock.Instant, threads: Int) -> ContinuousClock.Instant {
            let ahead = jobs.count + running
            return now + averageJob * (ahead / threads + 1) * 1.5
        }

        mutating func recordJob(_ duration: Duration) {
            averageJob = averageJob == .zero ? duration : averageJob * 0.8 + duration * 0.2
        }
    }

    private final class Shared: Sendable {
        let state = Mutex(State())
        let wakeUp = DispatchSemaphore(value: 0)
        let maximumPending: Int

        init(maximumPending: Int) {
            self.maximumPending = maximumPending
        }

        /// One worker: waits for a job, runs it, until the pool is gone.
        func workLoop() {
            while true {
                wakeUp.wait()
                let next = state.withLock { state -> Job?? in
                    if state.stopped { return .none }
                    guard !state.jobs.isEmpty else { return .some(nil) }
                    state.running += 1
                    return .some(state.jobs.removeFirst())
                }
                guard let next else { return }
                guard let job = next else { continue }
                let start = ContinuousClock.now
                let ran = job.execute()
                let duration = ContinuousClock.now - start
                state.withLock { state in
                    state.running -= 1
                    if ran { state.recordJob(duration) }
                }
            }
        }
    }
}

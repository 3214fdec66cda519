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
/// Work waits in FIFO order; at most `maximumPending` jobs wait, beyond that
/// ``run(_:)`` fails at once with RESOURCE_EXHAUSTED instead of building a
/// queue no deadline could outlast. A job whose caller was cancelled (its
/// call was cancelled or ran out of time) before a thread took it is skipped.
final class BlockingWorkPool: Sendable {
    /// One core fewer than the machine has, at least one.
    static var defaultThreadCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount - 1) }

    private let shared: Shared
    let threadCount: Int

    init(name: String, threadCount: Int = BlockingWorkPool.defaultThreadCount, maximumPending: Int = 256) {
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
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        let ticket = Ticket()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let job = Job(
                    ticket: ticket,
                    perform: { continuation.resume(with: Result { try work() }) },
                    refuse: { continuation.resume(throwing: $0) }
                )
                let accepted = shared.state.withLock { state -> Bool in
                    guard !state.stopped, state.jobs.count < shared.maximumPending else { return false }
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

        func execute() {
            if ticket.cancelled.load(ordering: .relaxed) {
                refuse(CancellationError())
            } else {
                perform()
            }
        }

        func abandon() {
            refuse(RPCError(code: .unavailable, message: "the service is shutting down"))
        }
    }

    private struct State {
        var jobs: [Job] = []
        var stopped = false
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
                    return .some(state.jobs.isEmpty ? nil : state.jobs.removeFirst())
                }
                guard let job = next else { return }
                job?.execute()
            }
        }
    }
}

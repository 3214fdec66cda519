import Synchronization

/// Lets the connection's event loop cancel one call's handler task.
///
/// Each call runs in its own child task of the connection's task group, and
/// Swift offers no handle to cancel one child of a group. The task attaches
/// itself here while it runs; a `Cancel` frame or the call's deadline then
/// cancels exactly that task. Attaching, detaching and cancelling share one
/// lock, so the task is never touched after it detached.
final class CallCancellation: Sendable {
    private enum State {
        case pending
        case running(RunningTask)
        case cancelled
        case finished
    }

    /// The handler's task while it runs. Only used under the lock, and only
    /// between attach and detach, while the task is alive.
    private struct RunningTask: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private let state = Mutex(State.pending)

    init() {}

    /// Called first thing by the handler's task. If the call was cancelled
    /// before the task started, the task is cancelled now.
    func attachCurrentTask() {
        withUnsafeCurrentTask { task in
            guard let task else { return }
            state.withLock { state in
                switch state {
                case .pending:
                    state = .running(RunningTask(task: task))
                case .cancelled:
                    task.cancel()
                case .running, .finished:
                    break
                }
            }
        }
    }

    /// Called by the handler's task before it returns.
    func detach() {
        state.withLock { $0 = .finished }
    }

    /// Cancels the call's task, now or as soon as it starts.
    func cancel() {
        state.withLock { state in
            switch state {
            case .pending:
                state = .cancelled
            case .running(let running):
                running.task.cancel()
                state = .cancelled
            case .cancelled, .finished:
                break
            }
        }
    }
}

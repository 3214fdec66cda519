import NIOCore

/// Runs Swift tasks on one NIO event loop.
///
/// A connection's handler tasks prefer the connection's own event loop
/// (SE-0417 task executor preference): the frame that starts a call, the
/// handler and the write of its `Response` then all run on one thread, with
/// no hop to the global pool and back. Work a handler awaits elsewhere
/// (a database queue, an actor with its own executor) still runs there and
/// resumes here.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

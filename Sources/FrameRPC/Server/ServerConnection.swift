import Logging
import NIOCore

/// One accepted connection: its channel and the calls its handler accepted.
struct ServerConnection: Sendable {
    let channel: any Channel
    let calls: AsyncStream<IncomingCall>
    let handle: ServerConnectionHandle

    /// Runs every call the connection accepts, each in its own child task,
    /// until the connection closes and its calls are done. Cancelling the
    /// task closes the connection.
    func serve(interceptors: [any ServerInterceptor], logger: Logger) async {
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                for await call in calls {
                    group.addTask { await call.run(interceptors: interceptors, logger: logger) }
                }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    func drain(grace: Duration) {
        handle.drain(grace: grace)
    }
}

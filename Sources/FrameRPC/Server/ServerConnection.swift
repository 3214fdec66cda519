import NIOCore

/// One accepted connection: its channel, and when it is over.
struct ServerConnection: Sendable {
    let channel: any Channel
    /// Succeeds once the connection has closed and every handler task it
    /// started has returned.
    let finished: EventLoopFuture<Void>
    let handle: ServerConnectionHandle

    /// Waits until the connection has closed and its calls are done; the
    /// handler tasks are the connection's own (``ServerConnectionHandler``
    /// starts and cancels them), so when this returns none is left running.
    /// Cancelling the waiting task closes the connection, which cancels them.
    func serve() async {
        await withTaskCancellationHandler {
            try? await finished.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    func drain(grace: Duration) {
        handle.drain(grace: grace)
    }
}

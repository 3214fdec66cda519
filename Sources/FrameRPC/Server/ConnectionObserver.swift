/// Told when a server accepts and closes connections: how metrics count
/// open connections without the runtime knowing any metrics library.
///
/// Called from the server's accept loop and connection tasks, so it must be
/// quick and thread-safe.
public protocol ConnectionObserver: Sendable {
    /// A connection was accepted.
    func connectionOpened()
    /// A connection that was accepted has closed and its calls are done.
    func connectionClosed()
}

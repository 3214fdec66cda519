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
    /// A TLS handshake failed (no client certificate, an invalid or expired
    /// one, plaintext on a TLS port, no handshake in time); the connection
    /// is closed before any frame is read (``connectionClosed()`` follows
    /// as for any connection).
    func tlsHandshakeFailed()
}

extension ConnectionObserver {
    public func tlsHandshakeFailed() {}
}

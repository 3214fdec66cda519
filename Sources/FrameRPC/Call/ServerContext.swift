/// What a handler knows about the call it serves.
///
/// While a handler runs, its context is also the task-local
/// ``ServerContext/current``: outgoing calls made from the handler's task
/// (and its child tasks) inherit the remaining deadline and the trace and
/// request-id metadata from it, without passing anything by hand.
public struct ServerContext: Sendable {
    /// The wire method name, `/<package>.<Service>/<Method>`.
    public let method: String
    /// The request metadata. Interceptors may add to it before the handler runs.
    public var metadata: Metadata
    /// When the call's budget runs out, if the caller gave one.
    public let deadline: ContinuousClock.Instant?
    /// The caller's address, for logs.
    public let remoteAddress: String
    /// The call's id on its connection.
    public let callID: UInt64
    /// The peer's verified identity, from its TLS client certificate; `nil`
    /// on a plaintext connection. Interceptors and handlers read it; nothing
    /// the peer sends can set it.
    public let peer: PeerIdentity?

    public init(
        method: String,
        metadata: Metadata,
        deadline: ContinuousClock.Instant?,
        remoteAddress: String = "unknown",
        callID: UInt64 = 0,
        peer: PeerIdentity? = nil
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.remoteAddress = remoteAddress
        self.callID = callID
        self.peer = peer
    }

    /// The context of the call the current task is serving, if any.
    @TaskLocal public static var current: ServerContext?
}

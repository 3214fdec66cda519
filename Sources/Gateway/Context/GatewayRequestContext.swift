import Hummingbird

/// The per-request context the gateway's middleware and routes share.
///
/// Made by Hummingbird as the request arrives, so ``arrival`` is the instant
/// from which the request's deadline and `X-Process-Time` are counted.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// When the request reached the gateway.
    public let arrival: ContinuousClock.Instant
    /// The request's id (the caller's `X-Request-ID`, else a new UUID), set
    /// by ``RequestEnvelopeMiddleware`` before anything else runs.
    public var requestID: String
    /// What the route learned that the access log reports.
    public let record: RequestRecord
    /// The client's IP address as the socket says (never a header a client
    /// could forge): what per-address limits count by.
    public let clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        arrival = .now
        requestID = ""
        record = RequestRecord()
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

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

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        arrival = .now
        requestID = ""
        record = RequestRecord()
    }
}

import FrameRPC
import Logging
import Tracing

/// How the order service treats calls to other services.
enum UpstreamCall {
    /// Codes that say the upstream could not answer (rather than that it
    /// refused the request). They reach our caller with the same code but
    /// without the upstream's message, which may name internal addresses.
    static let outageCodes: Set<RPCError.Code> = [
        .unavailable, .deadlineExceeded, .cancelled, .internal, .unknown, .resourceExhausted, .dataLoss,
    ]

    /// `error` as our caller should see it when `service` failed with it.
    static func failure(_ error: any Error, service: String, logger: Logger) -> any Error {
        guard let error = error as? RPCError else { return error }
        guard outageCodes.contains(error.code) else { return error }
        logger.warning("upstream call failed", metadata: ["upstream": "\(service)", "error": "\(error)"])
        return RPCError(code: error.code, message: "the \(service) service did not answer (\(error.code.name))")
    }

    /// Runs `operation` outside the caller's task: it is neither cancelled
    /// when the caller leaves nor bound by the caller's deadline, but keeps
    /// the caller's trace and request id. For work that must happen once a
    /// decision is taken (commit a reservation, release a dropped one).
    static func detached<Result: Sendable>(
        from context: ServerContext?,
        _ operation: @escaping @Sendable () async -> Result
    ) async -> Result {
        let unbounded = context.map {
            ServerContext(method: $0.method, metadata: $0.metadata, deadline: nil, remoteAddress: $0.remoteAddress, callID: $0.callID, peer: $0.peer)
        }
        // A detached task inherits no task locals: the trace (for its log
        // lines and calls) is carried over by hand, like the call context.
        let serviceContext = ServiceContext.current
        return await Task.detached {
            await ServiceContext.withValue(serviceContext) {
                await ServerContext.$current.withValue(unbounded) { await operation() }
            }
        }.value
    }
}

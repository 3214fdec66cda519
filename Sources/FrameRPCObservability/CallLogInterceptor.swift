import FrameRPC
import Logging

/// One log line per served call, the FrameRPC counterpart of the gateway's
/// access log: `call` with `method`, `code`, `duration_ms` and `peer`.
///
/// Placed inside ``TracingServerInterceptor`` so the line carries the
/// call's `request_id` and `trace_id`: reading the lines of every process
/// for one trace id shows each hop of a request. Calls that failed through
/// the server's fault (INTERNAL, UNKNOWN, DATA_LOSS) are logged at
/// `warning`, everything else at `level`.
public struct CallLogInterceptor: ServerInterceptor {
    private let logger: Logger
    private let level: Logger.Level

    public init(logger: Logger, level: Logger.Level = .info) {
        self.logger = logger
        self.level = level
    }

    public func intercept(
        context: ServerContext,
        next: (ServerContext) async throws -> ServerOutcome
    ) async throws -> ServerOutcome {
        let start = ContinuousClock.now
        do {
            let outcome = try await next(context)
            log(context, code: nil, start: start)
            return outcome
        } catch {
            log(context, code: RPCError.answering(error).code, start: start)
            throw error
        }
    }

    private func log(_ context: ServerContext, code: RPCError.Code?, start: ContinuousClock.Instant) {
        let serverFault = code == .internal || code == .unknown || code == .dataLoss
        logger.log(level: serverFault ? .warning : level, "call", metadata: [
            "method": .string(context.method),
            "code": .string(code?.name ?? "OK"),
            "duration_ms": .string(Self.milliseconds(ContinuousClock.now - start)),
            "peer": .string(context.remoteAddress),
        ])
    }

    /// Milliseconds with three decimals.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let microseconds = max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
        let fraction = microseconds % 1_000
        return "\(microseconds / 1_000).\(String(repeating: "0", count: 3 - String(fraction).count))\(fraction)"
    }
}

import FrameRPC
import Synchronization

/// Counts the calls a server serves, by method: how a load-balancing test
/// sees which instance a call reached. The health RPC is counted apart, so
/// probes do not blur a test's counts.
public final class CallCounter: ServerInterceptor, Sendable {
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    public func intercept(context: ServerContext, next: (ServerContext) async throws -> ServerOutcome) async throws -> ServerOutcome {
        counts.withLock { $0[context.method, default: 0] += 1 }
        return try await next(context)
    }

    /// Calls served so far, health checks left out.
    public var total: Int {
        counts.withLock { counts in
            counts.filter { !$0.key.hasPrefix("/framerpc.health.") }.values.reduce(0, +)
        }
    }

    /// Calls of one method (`/shop.product.v1.ProductService/ListProducts`).
    public func count(of method: String) -> Int {
        counts.withLock { $0[method] ?? 0 }
    }
}

import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import ShopObservability
import Synchronization

/// `GET /metrics` in the Prometheus text format on a port of its own: how
/// Prometheus scrapes a service, which speaks only FrameRPC on its main
/// port. Anything else is 404.
///
/// A `Service`: run it in the service's group; graceful shutdown stops it.
/// A plain HTTP/1.1 Hummingbird server, so the scrape path shares nothing
/// with the RPC path and a slow scrape cannot delay a call.
public final class MetricsEndpoint: Service, Sendable {
    public let endpoint: ServiceEndpoint
    private let metrics: MetricsRegistry
    private let logger: Logger
    private let bound = Mutex<BoundState>(.waiting([]))

    private enum BoundState {
        case waiting([CheckedContinuation<Int, any Error>])
        case bound(Int)
        case failed(String)
    }

    public init(metrics: MetricsRegistry, at endpoint: ServiceEndpoint, logger: Logger) {
        self.endpoint = endpoint
        self.metrics = metrics
        self.logger = logger
    }

    /// The port it listens on once bound (useful with port 0).
    public var port: Int {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let result = bound.withLock { state -> Result<Int, any Error>? in
                    switch state {
                    case .waiting(var waiters):
                        waiters.append(continuation)
                        state = .waiting(waiters)
                        return nil
                    case .bound(let port):
                        return .success(port)
                    case .failed(let reason):
                        return .failure(ConfigurationError(reason))
                    }
                }
                if let result { continuation.resume(with: result) }
            }
        }
    }

    public func run() async throws {
        let router = Router()
        let metrics = metrics
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: MetricsRegistry.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        }
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(endpoint.host, port: endpoint.port)),
            onServerRunning: { [weak self] channel in
                self?.resolve(.bound(channel.localAddress?.port ?? 0))
            },
            logger: logger
        )
        do {
            try await application.run()
        } catch {
            resolve(.failed("the metrics endpoint could not serve on \(endpoint.host):\(endpoint.port): \(error)"))
            throw error
        }
        resolve(.failed("the metrics endpoint stopped"))
    }

    private func resolve(_ outcome: BoundState) {
        let waiters = bound.withLock { state -> [CheckedContinuation<Int, any Error>] in
            guard case .waiting(let waiters) = state else { return [] }
            state = outcome
            return waiters
        }
        for waiter in waiters {
            switch outcome {
            case .bound(let port): waiter.resume(returning: port)
            case .failed(let reason): waiter.resume(throwing: ConfigurationError(reason))
            case .waiting: break
            }
        }
    }
}

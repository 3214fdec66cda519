import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// A FrameRPC server: binds a TCP port, serves the methods of its services,
/// and drains gracefully.
///
/// `run()` binds and serves until the server is shut down; it is a
/// swift-service-lifecycle `Service`, so in a `ServiceGroup` SIGTERM drains
/// it: every connection gets `GoAway{code: 0}`, calls in flight complete,
/// new calls get UNAVAILABLE, and connections close when their calls are done
/// or after ``Configuration-swift.struct/drainGracePeriod``. Cancelling the
/// task that runs it closes every connection at once.
///
/// The standard health service (``HealthService``) is always served; each
/// registered service starts SERVING, and everything turns NOT_SERVING when
/// the drain begins.
public final class RPCServer: Service, Sendable {
    public let configuration: Configuration
    /// The health statuses this server reports.
    public let health: HealthService

    private let router: RPCRouter
    private let interceptors: [any ServerInterceptor]
    private let connectionObserver: (any ConnectionObserver)?
    private let logger: Logger
    private let tls: TLSContextSource?
    private let state = Mutex(State())
    private let bound = OnceValue<Result<SocketAddress, any Error>>()

    private struct State {
        var channel: (any Channel)?
        var connections: [ObjectIdentifier: ServerConnection] = [:]
        var draining = false
        /// Set by ``changeConcurrencyLimit(to:)``: replaces the configured limit.
        var concurrencyLimit: Int?
    }

    public init(
        configuration: Configuration = Configuration(),
        services: [any RPCService],
        interceptors: [any ServerInterceptor] = [],
        connectionObserver: (any ConnectionObserver)? = nil,
        logger: Logger = Logger(label: "framerpc.server")
    ) {
        var router = RPCRouter()
        for service in services {
            service.registerMethods(with: &router)
        }
        let health = HealthService()
        for name in router.serviceNames {
            health.setStatus(.serving, for: name)
        }
        health.setStatus(.serving, for: "")
        health.registerMethods(with: &router)
        self.configuration = configuration
        self.health = health
        self.router = router
        self.interceptors = interceptors
        self.connectionObserver = connectionObserver
        self.logger = logger
        tls = configuration.tls.map { TLSContextSource(configuration: $0, role: .server, logger: logger) }
    }

    /// The address the server listens on, once `run()` has bound it; with
    /// port 0 this tells which port the system gave. Throws if binding failed.
    public var localAddress: SocketAddress {
        get async throws { try await bound.wait().get() }
    }

    /// The port the server listens on, once bound.
    public var port: Int {
        get async throws { try await localAddress.port ?? 0 }
    }

    public func run() async throws {
        let serverChannel: NIOAsyncChannel<ServerConnection, Never>
        do {
            // Unusable TLS material stops the server before it binds.
            _ = try tls?.context()
            serverChannel = try await bind()
        } catch {
            bound.set(.failure(error))
            throw error
        }
        let address = serverChannel.channel.localAddress!
        bound.set(.success(address))
        logger.info("listening", metadata: ["address": "\(address)"])

        let alreadyDraining = state.withLock { state in
            state.channel = serverChannel.channel
            return state.draining
        }
        if alreadyDraining { serverChannel.channel.close(promise: nil) }

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        let key = ObjectIdentifier(connection.channel)
                        let (draining, limit) = state.withLock { state in
                            state.connections[key] = connection
                            return (state.draining, state.concurrencyLimit)
                        }
                        if let limit { connection.handle.changeConcurrencyLimit(to: limit) }
                        if draining { connection.drain(grace: configuration.drainGracePeriod) }
                        connectionObserver?.connectionOpened()
                        group.addTask {
                            await connection.serve()
                            _ = self.state.withLock { $0.connections.removeValue(forKey: key) }
                            self.connectionObserver?.connectionClosed()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.beginGracefulShutdown()
        }
        logger.info("stopped")
    }

    /// Changes the per-connection concurrency limit, for the connections open
    /// now and those accepted later, for instance to lower it under pressure.
    /// Clients that asked for `Settings` are told (PROTOCOL.md section 8); a
    /// lowered limit is enforced on such a client once it acknowledged it, at
    /// once on others.
    public func changeConcurrencyLimit(to limit: Int) {
        let connections = state.withLock { state in
            state.concurrencyLimit = max(1, limit)
            return Array(state.connections.values)
        }
        for connection in connections { connection.handle.changeConcurrencyLimit(to: limit) }
    }

    /// Stops accepting connections and drains the open ones. `run()` returns
    /// when the last connection has closed.
    public func beginGracefulShutdown() {
        let (channel, connections) = state.withLock { state -> ((any Channel)?, [ServerConnection]) in
            if state.draining { return (nil, []) }
            state.draining = true
            return (state.channel, Array(state.connections.values))
        }
        guard !connections.isEmpty || channel != nil else { return }
        logger.info("draining", metadata: ["connections": "\(connections.count)"])
        health.enterDrain()
        channel?.close(promise: nil)
        for connection in connections {
            connection.drain(grace: configuration.drainGracePeriod)
        }
    }

    private func bind() async throws -> NIOAsyncChannel<ServerConnection, Never> {
        let configuration = configuration
        let router = router
        let logger = logger
        let tls = tls
        let connectionObserver = connectionObserver
        let interceptors = interceptors
        return try await ServerBootstrap(group: configuration.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ServerConnectionHandler(
                        router: router,
                        configuration: configuration,
                        interceptors: interceptors,
                        logger: logger
                    )
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        // First, so everything after it sees only what a
                        // verified peer sent.
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls.context()))
                        try pipeline.addHandler(ServerTLSHandshakeHandler(observer: connectionObserver, logger: logger))
                    }
                    if let keepalive = configuration.keepalive {
                        try pipeline.addHandler(IdleStateHandler(readTimeout: TimeAmount(keepalive.interval)))
                    }
                    // Stop reading while the peer is not reading our answers,
                    // so a client cannot make the server buffer without bound.
                    try pipeline.addHandler(BackPressureHandler())
                    // Frames are split and decoded in the handler itself (FrameDecoder).
                    try pipeline.addHandler(handler)
                    return ServerConnection(channel: channel, finished: handler.finished, handle: handler.connectionHandle)
                }
            }
    }
}

extension RPCServer {
    public struct Configuration: Sendable {
        /// The address to bind; `127.0.0.1` unless told otherwise.
        public var host: String
        /// The port to bind; 0 lets the system choose (see ``RPCServer/port``).
        public var port: Int
        /// The largest frame accepted, in bytes (PROTOCOL.md: 4 MiB).
        public var maximumFrameSize: Int
        /// Calls in flight per connection; more are answered RESOURCE_EXHAUSTED.
        public var maximumConcurrentCallsPerConnection: Int
        /// Whether a client that asks (PROTOCOL.md section 8) is told
        /// ``maximumConcurrentCallsPerConnection`` in a `Settings` frame;
        /// off, the server answers like one that predates the extension.
        public var announcesConcurrencyLimit: Bool = true
        /// Ping an idle client; `nil` disables.
        public var keepalive: Keepalive?
        /// How long a drain waits for calls in flight before closing anyway.
        public var drainGracePeriod: Duration
        /// Whether handlers run on their connection's event loop (the
        /// default): no thread hop between reading a request, running its
        /// handler and writing its answer. A handler must then never block
        /// its thread (hand blocking or CPU-heavy work to a pool, as the user
        /// service does for password hashing); `false` runs handlers on the
        /// global concurrent executor instead, at the cost of two hops a call.
        public var runsHandlersOnEventLoop: Bool = true
        /// Mutual TLS on every connection; `nil` serves plaintext (and
        /// ``ServerContext/peer`` is always `nil`).
        public var tls: RPCTLSConfiguration?
        public var eventLoopGroup: any EventLoopGroup

        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            maximumFrameSize: Int = 4 * 1024 * 1024,
            maximumConcurrentCallsPerConnection: Int = 256,
            keepalive: Keepalive? = Keepalive(),
            drainGracePeriod: Duration = .seconds(10),
            tls: RPCTLSConfiguration? = nil,
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
        ) {
            self.tls = tls
            self.host = host
            self.port = port
            self.maximumFrameSize = maximumFrameSize
            self.maximumConcurrentCallsPerConnection = maximumConcurrentCallsPerConnection
            self.keepalive = keepalive
            self.drainGracePeriod = drainGracePeriod
            self.eventLoopGroup = eventLoopGroup
        }
    }
}

import Foundation
import Logging
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization

/// A client for one FrameRPC endpoint.
///
/// All calls share one multiplexed connection, opened on the first call.
/// When it fails or the server sends `GoAway`, the next call opens a new one;
/// after a failed connect, attempts back off exponentially (with jitter) and
/// calls made meanwhile fail at once with UNAVAILABLE, so callers can go
/// elsewhere instead of queueing. A call refused before the server started it
/// (``RPCError/neverProcessed``) is sent once more on a fresh connection.
///
/// Every call takes ``CallOptions``; inside a handler, the remaining deadline
/// and the trace and request-id metadata of the call being served carry over
/// by themselves (``ServerContext/current``). Cancelling the calling task
/// fails the call with CANCELLED and sends `Cancel` to the server.
public final class RPCClient: Sendable {
    public let host: String
    public let port: Int
    public let configuration: Configuration
    private let interceptors: [any ClientInterceptor]
    private let logger: Logger
    private let state = Mutex(State.idle(failures: 0))

    private enum State {
        case idle(failures: Int)
        case connecting([CheckedContinuation<ClientConnection, any Error>], failures: Int)
        case ready(ClientConnection)
        case backingOff(until: ContinuousClock.Instant, failures: Int, reason: String)
        case shutDown
    }

    public init(
        host: String,
        port: Int,
        configuration: Configuration = Configuration(),
        interceptors: [any ClientInterceptor] = [],
        logger: Logger = Logger(label: "framerpc.client")
    ) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.interceptors = interceptors
        self.logger = logger
    }

    deinit {
        if case .ready(let connection) = state.withLock({ $0 }) {
            connection.close()
        }
    }

    /// `host:port`.
    public var endpoint: String { "\(host):\(port)" }

    // MARK: Calls

    /// Makes a unary call.
    public func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        method: String,
        request: Request,
        response: Response.Type = Response.self,
        options: CallOptions = .defaults
    ) async throws -> Response {
        let payload = try request.serializedData()
        let outcome = try await intercepted(method: method, options: options) { context in
            try await self.sendUnary(method: method, payload: payload, context: context)
        }
        do {
            return try Response(serializedBytes: outcome.payload)
        } catch {
            throw RPCError(code: .internal, message: "response is not a valid \(Response.protoMessageName)")
        }
    }

    /// Makes a server-streaming call; `body` reads the responses. The call
    /// is cancelled if `body` returns or throws before the stream ended.
    public func serverStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message, Result: Sendable>(
        method: String,
        request: Request,
        response: Response.Type = Response.self,
        options: CallOptions = .defaults,
        body: (RPCResponseStream<Response>) async throws -> Result
    ) async throws -> Result {
        let payload = try request.serializedData()
        var result: Result?
        _ = try await intercepted(method: method, options: options) { context in
            result = try await self.sendServerStreaming(method: method, payload: payload, context: context, body: body)
            return ClientOutcome()
        }
        return result!
    }

    /// Closes the connection and refuses further calls; calls in flight fail
    /// with UNAVAILABLE.
    public func shutdown() {
        let previous = state.withLock { state -> State in
            defer { state = .shutDown }
            return state
        }
        switch previous {
        case .ready(let connection):
            connection.close()
        case .connecting(let waiters, _):
            for waiter in waiters { waiter.resume(throwing: Self.shutDownError) }
        default:
            break
        }
    }

    private static let shutDownError = RPCError(code: .unavailable, message: "client is shut down")

    // MARK: Call plumbing

    private func intercepted(
        method: String,
        options: CallOptions,
        terminal: (ClientContext) async throws -> ClientOutcome
    ) async throws -> ClientOutcome {
        let now = ContinuousClock.now
        let inherited = ServerContext.current
        var metadata = options.metadata
        if let inherited {
            for key in Metadata.ReservedKey.propagated where metadata[key] == nil {
                metadata[key] = inherited.metadata[key]
            }
        }
        let context = ClientContext(
            method: method,
            metadata: metadata,
            deadline: options.effectiveDeadline(now: now, inherited: inherited?.deadline),
            endpoint: endpoint
        )
        if interceptors.isEmpty { return try await terminal(context) }
        return try await interceptors.intercept(context: context, terminal: terminal)
    }

    /// The `Request` body and NIO deadline for a call, or the error that
    /// stops it being sent.
    private func prepare(method: String, payload: Data, context: ClientContext) throws -> ([UInt8], NIODeadline?) {
        if let error = context.metadata.validationError { throw error }
        var request = Framerpc_V1_Request()
        request.method = method
        request.metadata = context.metadata.storage
        request.payload = payload
        var nioDeadline: NIODeadline?
        if let deadline = context.deadline {
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw RPCError(code: .deadlineExceeded, message: "deadline exceeded before the call was sent")
            }
            let (seconds, attoseconds) = remaining.components
            request.timeoutMicros = max(1, UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000))
            nioDeadline = .now() + TimeAmount(remaining)
        }
        let body: [UInt8] = try request.serializedBytes()
        guard body.count + 32 <= configuration.maximumFrameSize else {
            throw RPCError(code: .resourceExhausted, message: "request of \(body.count) bytes exceeds the frame size limit")
        }
        return (body, nioDeadline)
    }

    private func sendUnary(method: String, payload: Data, context: ClientContext) async throws -> ClientOutcome {
        let (body, deadline) = try prepare(method: method, payload: payload, context: context)
        var attempt = 0
        while true {
            let connection = try await connection()
            let call = PendingCall(deadline: deadline)
            do {
                return try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        call.receiver = .unary(continuation)
                        connection.start(call, request: body)
                    }
                } onCancel: {
                    connection.cancel(call)
                }
            } catch let error as RPCError where error.neverProcessed && attempt == 0 {
                attempt += 1
            }
        }
    }

    private func sendServerStreaming<Response: SwiftProtobuf.Message, Result>(
        method: String,
        payload: Data,
        context: ClientContext,
        body: (RPCResponseStream<Response>) async throws -> Result
    ) async throws -> Result {
        let (request, deadline) = try prepare(method: method, payload: payload, context: context)
        let connection = try await connection()
        let call = PendingCall(deadline: deadline)
        let (messages, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
        call.receiver = .stream(continuation)
        connection.start(call, request: request)
        defer { connection.cancel(call) }
        return try await withTaskCancellationHandler {
            try await body(RPCResponseStream(messages: messages))
        } onCancel: {
            connection.cancel(call)
        }
    }

    // MARK: Connection management

    private enum Next {
        case use(ClientConnection)
        case wait
        case connect(failures: Int)
        case fail(RPCError)
    }

    /// The connection to use now: the open one, or a new one.
    func connection() async throws -> ClientConnection {
        let next = state.withLock { state -> Next in
            switch state {
            case .ready(let connection):
                return .use(connection)
            case .connecting:
                return .wait
            case .idle(let failures):
                state = .connecting([], failures: failures)
                return .connect(failures: failures)
            case .backingOff(let until, let failures, let reason):
                guard ContinuousClock.now >= until else {
                    let wait = until - .now
                    return .fail(RPCError(
                        code: .unavailable,
                        message: "cannot connect to \(endpoint): \(reason); next attempt in \(wait.formatted(.units(allowed: [.milliseconds])))"
                    ).markedNeverProcessed())
                }
                state = .connecting([], failures: failures)
                return .connect(failures: failures)
            case .shutDown:
                return .fail(Self.shutDownError)
            }
        }
        switch next {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait:
            return try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<ClientConnection, RPCError>? in
                    switch state {
                    case .connecting(var waiters, let failures):
                        waiters.append(continuation)
                        state = .connecting(waiters, failures: failures)
                        return nil
                    case .ready(let connection):
                        return .success(connection)
                    default:
                        return .failure(RPCError(code: .unavailable, message: "cannot connect to \(endpoint)").markedNeverProcessed())
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        case .connect(let failures):
            return try await connect(failures: failures)
        }
    }

    private func connect(failures: Int) async throws -> ClientConnection {
        let result: Result<ClientConnection, RPCError>
        do {
            result = .success(try await openConnection())
        } catch {
            result = .failure(RPCError(code: .unavailable, message: "cannot connect to \(endpoint): \(error)").markedNeverProcessed())
        }
        let (waiters, orphan) = state.withLock { state -> ([CheckedContinuation<ClientConnection, any Error>], ClientConnection?) in
            guard case .connecting(let waiters, _) = state else {
                // Shut down meanwhile: nobody may use the new connection.
                return ([], try? result.get())
            }
            switch result {
            case .success(let connection):
                state = .ready(connection)
            case .failure(let error):
                let delay = configuration.backoff.delay(afterFailures: failures + 1)
                state = .backingOff(until: .now + delay, failures: failures + 1, reason: "\(error.message)")
            }
            return (waiters, nil)
        }
        orphan?.close()
        if case .failure(let error) = result {
            logger.debug("connect failed", metadata: ["endpoint": "\(endpoint)", "error": "\(error.message)"])
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
        if orphan != nil { throw Self.shutDownError }
        return try result.get()
    }

    private func openConnection() async throws -> ClientConnection {
        let configuration = configuration
        let logger = logger
        let retire: @Sendable (ObjectIdentifier) -> Void = { [weak self] channelID in
            self?.retire(channelID: channelID)
        }
        let channel = try await ClientBootstrap(group: configuration.eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let channelID = ObjectIdentifier(channel)
                    let handler = ClientConnectionHandler(keepalive: configuration.keepalive, logger: logger) {
                        retire(channelID)
                    }
                    let pipeline = channel.pipeline.syncOperations
                    if let keepalive = configuration.keepalive {
                        try pipeline.addHandler(IdleStateHandler(readTimeout: TimeAmount(keepalive.interval)))
                    }
                    try pipeline.addHandler(BackPressureHandler())
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameSize: configuration.maximumFrameSize)))
                    try pipeline.addHandler(handler)
                }
            }
            .connect(host: host, port: port)
            .get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return ClientConnection(channel: channel, handler: handler)
    }

    /// A connection that took a GoAway or closed takes no new calls.
    private func retire(channelID: ObjectIdentifier) {
        state.withLock { state in
            if case .ready(let connection) = state, ObjectIdentifier(connection.channel) == channelID {
                state = .idle(failures: 0)
            }
        }
    }
}

extension RPCError {
    func markedNeverProcessed() -> RPCError {
        var error = self
        error.neverProcessed = true
        return error
    }
}

extension RPCClient {
    public struct Configuration: Sendable {
        /// The largest frame accepted from the server, in bytes.
        public var maximumFrameSize: Int
        public var connectTimeout: Duration
        /// Ping an idle server; `nil` disables.
        public var keepalive: Keepalive?
        public var backoff: Backoff
        public var eventLoopGroup: any EventLoopGroup

        public init(
            maximumFrameSize: Int = 4 * 1024 * 1024,
            connectTimeout: Duration = .seconds(5),
            keepalive: Keepalive? = Keepalive(),
            backoff: Backoff = Backoff(),
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
        ) {
            self.maximumFrameSize = maximumFrameSize
            self.connectTimeout = connectTimeout
            self.keepalive = keepalive
            self.backoff = backoff
            self.eventLoopGroup = eventLoopGroup
        }
    }

    /// Exponential backoff between connection attempts, with jitter so that
    /// many clients do not retry in step.
    public struct Backoff: Sendable, Hashable {
        public var initial: Duration
        public var maximum: Duration
        public var multiplier: Double
        /// Each delay is scaled by a random factor in `1 ± jitter`.
        public var jitter: Double

        public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5), multiplier: Double = 2, jitter: Double = 0.2) {
            self.initial = initial
            self.maximum = maximum
            self.multiplier = multiplier
            self.jitter = jitter
        }

        /// The wait after `failures` consecutive failed attempts (1 or more).
        public func delay(afterFailures failures: Int) -> Duration {
            let exponent = Double(max(0, failures - 1))
            let base = min(initial * pow(multiplier, exponent), maximum)
            let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter)) : 1
            return base * factor
        }
    }
}

import Foundation
import Logging
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization

/// A client for one FrameRPC service, at one address or balanced across
/// several (``RPCTarget``: a list, or a DNS name re-resolved periodically).
///
/// Each endpoint has one multiplexed connection, opened on the first call
/// that goes there. When it fails or the server sends `GoAway`, the next
/// call opens a new one; after a failed connect, attempts back off
/// exponentially (with jitter) and that endpoint is skipped meanwhile (with
/// a single endpoint, calls fail at once with UNAVAILABLE, so callers can
/// go elsewhere instead of queueing). Each call goes to one of the endpoints
/// not backing off, by power of two random choices on calls in flight
/// (``LoadBalancer`` has the rules). A call refused before any server
/// started it (``RPCError/neverProcessed``: a failed connect, a `GoAway`
/// race) is sent at once to another endpoint that can take it, or, as with
/// one endpoint, once more on a fresh connection. A call the server started
/// is never sent twice: whether that is safe is the caller's to know.
///
/// Every call takes ``CallOptions``; inside a handler, the remaining deadline
/// and the trace and request-id metadata of the call being served carry over
/// by themselves (``ServerContext/current``). Cancelling the calling task
/// fails the call with CANCELLED and sends `Cancel` to the server.
public final class RPCClient: Sendable {
    /// What this client talks to.
    public let target: RPCTarget
    /// The host of the first address, or the DNS name.
    public let host: String
    /// The port of the first address, or of the DNS name.
    public let port: Int
    public let configuration: Configuration
    private let interceptors: [any ClientInterceptor]
    private let logger: Logger
    let balancer: LoadBalancer

    /// A client for one address.
    public convenience init(
        host: String,
        port: Int,
        configuration: Configuration = Configuration(),
        interceptors: [any ClientInterceptor] = [],
        logger: Logger = Logger(label: "framerpc.client")
    ) {
        self.init(target: .address(host: host, port: port), configuration: configuration, interceptors: interceptors, logger: logger)
    }

    /// A client for `target`. A `dns://` target is looked up at once, in a
    /// task the client owns, and again every
    /// ``Configuration-swift.struct/dnsRefreshInterval`` until the client
    /// is shut down or released; the first calls wait for the first answer.
    public init(
        target: RPCTarget,
        configuration: Configuration = Configuration(),
        interceptors: [any ClientInterceptor] = [],
        logger: Logger = Logger(label: "framerpc.client")
    ) {
        self.target = target
        switch target {
        case .addresses(let addresses):
            host = addresses.first?.host ?? ""
            port = addresses.first?.port ?? 0
        case .dns(let name, let port):
            host = name
            self.port = port
        }
        var configuration = configuration
        configuration.tlsSource = configuration.tls.map { TLSContextSource(configuration: $0, role: .client, logger: logger) }
        self.configuration = configuration
        self.interceptors = interceptors
        self.logger = logger
        endpoint = Self.endpoint(of: target)
        callerExecutor = (configuration.eventLoopGroup as? any EventLoop).map { EventLoopTaskExecutor(eventLoop: $0) }
        balancer = LoadBalancer(target: target, configuration: configuration, logger: logger)
    }

    /// A client that sends every call to one endpoint of `parent`'s,
    /// sharing its connection and its count of calls in flight.
    init(endpoint subchannel: Subchannel, of parent: RPCClient) {
        target = .addresses([subchannel.address])
        host = subchannel.address.host
        port = subchannel.address.port
        configuration = parent.configuration
        interceptors = parent.interceptors
        logger = parent.logger
        endpoint = Self.endpoint(of: target)
        callerExecutor = parent.callerExecutor
        balancer = LoadBalancer(borrowing: subchannel)
    }

    /// `host:port` for one address; else the target (`a:1,b:2`, `dns://name:port`).
    /// Interceptors see it as ``ClientContext/endpoint``. Worked out once,
    /// not per call.
    public let endpoint: String

    /// Where to run the tasks that make this client's calls so that a call
    /// never leaves its connection's thread: set when
    /// ``Configuration-swift.struct/eventLoopGroup`` is a single event loop
    /// (every connection of this client is then on it), `nil` for a group
    /// of several.
    ///
    /// A task with this executor preference (`Task(executorPreference:)`,
    /// `group.addTask(executorPreference:)`, `withTaskExecutorPreference`)
    /// writes its `Request` on the event loop without a hop, and resumes
    /// there when the `Response` is read, instead of twice crossing between
    /// the global pool and the loop per call. Only for callers whose own
    /// work between calls is short: it runs on the loop, between reads.
    public let callerExecutor: (any TaskExecutor)?

    private static func endpoint(of target: RPCTarget) -> String {
        if case .addresses(let addresses) = target, addresses.count == 1 { return "\(addresses[0].host):\(addresses[0].port)" }
        return target.description
    }

    // MARK: Calls

    /// Makes a unary call.
    public func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        method: String,
        request: Request,
        response: Response.Type = Response.self,
        options: CallOptions = .defaults
    ) async throws -> Response {
        // Serialized straight into the buffer its Request frame goes out in.
        let payload: FramePayload = try request.serializedBytes()
        let context = callContext(method: method, options: options)
        let outcome: ClientOutcome
        if interceptors.isEmpty {
            // No closure and no extra async frame when nothing intercepts.
            outcome = try await sendUnary(method: method, payload: payload, context: context)
        } else {
            outcome = try await interceptors.intercept(context: context) { context in
                try await self.sendUnary(method: method, payload: payload, context: context)
            }
        }
        return try Self.decode(Response.self, from: outcome)
    }

    private static func decode<Response: SwiftProtobuf.Message>(_ type: Response.Type, from outcome: ClientOutcome) throws -> Response {
        do {
            return try Response(serializedBytes: outcome.payload.readableBytesSpan)
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
        let payload: FramePayload = try request.serializedBytes()
        var result: Result?
        _ = try await intercepted(method: method, options: options) { context in
            result = try await self.sendServerStreaming(method: method, payload: payload, context: context, body: body)
            return ClientOutcome()
        }
        return result!
    }

    /// Closes the connections and refuses further calls; calls in flight
    /// fail with UNAVAILABLE. On a client for one endpoint of another
    /// (``Endpoint/client``) it does nothing: that endpoint belongs to the
    /// other client.
    public func shutdown() {
        balancer.shutdown()
    }

    static let shutDownError = RPCError(code: .unavailable, message: "client is shut down")

    // MARK: Call plumbing

    private func intercepted(
        method: String,
        options: CallOptions,
        terminal: (ClientContext) async throws -> ClientOutcome
    ) async throws -> ClientOutcome {
        let context = callContext(method: method, options: options)
        if interceptors.isEmpty { return try await terminal(context) }
        return try await interceptors.intercept(context: context, terminal: terminal)
    }

    /// The context a call starts with: its options, plus the deadline and
    /// propagated metadata of the call being served, if any.
    private func callContext(method: String, options: CallOptions) -> ClientContext {
        let now = ContinuousClock.now
        let inherited = ServerContext.current
        var metadata = options.metadata
        if let inherited {
            for key in Metadata.ReservedKey.propagated where metadata[key] == nil {
                metadata[key] = inherited.metadata[key]
            }
        }
        return ClientContext(
            method: method,
            metadata: metadata,
            deadline: options.effectiveDeadline(now: now, inherited: inherited?.deadline),
            endpoint: endpoint
        )
    }

    /// The `Request` body and NIO deadline for a call, or the error that
    /// stops it being sent.
    private func prepare(method: String, payload: FramePayload, context: ClientContext) throws -> (RequestBody, NIODeadline?) {
        if let error = context.metadata.validationError { throw error }
        var timeoutMicros: UInt64 = 0
        var nioDeadline: NIODeadline?
        if let deadline = context.deadline {
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw RPCError(code: .deadlineExceeded, message: "deadline exceeded before the call was sent").markedNeverProcessed()
            }
            let (seconds, attoseconds) = remaining.components
            timeoutMicros = max(1, UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000))
            nioDeadline = .now() + TimeAmount(remaining)
        }
        let body = OutboundFrame.requestBody(
            payload: payload,
            method: method,
            timeoutMicros: timeoutMicros,
            metadata: context.metadata.storage
        )
        guard body.encodedSize + 32 <= configuration.maximumFrameSize else {
            throw RPCError(code: .resourceExhausted, message: "request of \(body.encodedSize) bytes exceeds the frame size limit")
        }
        return (body, nioDeadline)
    }

    private func sendUnary(method: String, payload: FramePayload, context: ClientContext) async throws -> ClientOutcome {
        let (body, deadline) = try prepare(method: method, payload: payload, context: context)
        var tried: [Subchannel] = []
        var resentOnFreshConnection = false
        while true {
            let subchannel: Subchannel
            let connection: ClientConnection
            if let ready = readyEndpoint(avoiding: tried) {
                (subchannel, connection) = ready
            } else {
                (subchannel, connection) = try await connectedEndpoint(avoiding: &tried)
            }
            defer { subchannel.callEnded() }
            let call = PendingCall(deadline: deadline)
            do {
                return try await withTaskCancellationHandler {
                    try await withUnsafeThrowingContinuation { continuation in
                        call.receiver = .unary(continuation)
                        connection.start(call, request: body)
                    }
                } onCancel: {
                    connection.cancel(call)
                }
            } catch let error as RPCError where error.neverProcessed && error.code != .deadlineExceeded {
                // Never sent, and time is left: another endpoint or a fresh connection may take it.
                tried.append(subchannel)
                if balancer.hasAlternative(avoiding: tried) { continue }
                guard !resentOnFreshConnection else { throw error }
                resentOnFreshConnection = true
            }
        }
    }

    private func sendServerStreaming<Response: SwiftProtobuf.Message, Result>(
        method: String,
        payload: FramePayload,
        context: ClientContext,
        body: (RPCResponseStream<Response>) async throws -> Result
    ) async throws -> Result {
        let (request, deadline) = try prepare(method: method, payload: payload, context: context)
        var tried: [Subchannel] = []
        let (subchannel, connection) = try await connectedEndpoint(avoiding: &tried)
        defer { subchannel.callEnded() }
        let call = PendingCall(deadline: deadline)
        let flow = StreamFlow(
            highWatermark: configuration.streamBufferHighWatermark,
            lowWatermark: configuration.streamBufferLowWatermark
        ) { [weak call] in
            if let call { connection.resumeReading(for: call) }
        }
        call.flow = flow
        let (messages, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
        call.receiver = .stream(continuation)
        connection.start(call, request: request)
        defer { connection.cancel(call) }
        return try await withTaskCancellationHandler {
            try await body(RPCResponseStream(messages: messages, flow: flow))
        } onCancel: {
            connection.cancel(call)
        }
    }

    /// ``connectedEndpoint(avoiding:)`` without suspending, when a static
    /// target's pick already has its connection open (the common case);
    /// `nil` sends the call down the full path.
    private func readyEndpoint(avoiding tried: [Subchannel]) -> (Subchannel, ClientConnection)? {
        guard let subchannel = balancer.pickNow(avoiding: tried) else { return nil }
        subchannel.callStarted()
        guard let connection = subchannel.readyConnection else {
            subchannel.callEnded()
            return nil
        }
        return (subchannel, connection)
    }

    /// An endpoint for one attempt, counted as one more call in flight there
    /// (the caller ends it), and its connection. A connect that fails is
    /// added to `tried` and another endpoint is picked while one can take
    /// the call.
    private func connectedEndpoint(avoiding tried: inout [Subchannel]) async throws -> (Subchannel, ClientConnection) {
        while true {
            guard let subchannel = try await balancer.pick(avoiding: tried) else {
                throw RPCError(code: .unavailable, message: "no endpoint for \(endpoint)").markedNeverProcessed()
            }
            subchannel.callStarted()
            do {
                return (subchannel, try await subchannel.connection())
            } catch let error as RPCError where error.neverProcessed {
                subchannel.callEnded()
                tried.append(subchannel)
                if balancer.hasAlternative(avoiding: tried) { continue }
                throw error
            } catch {
                subchannel.callEnded()
                throw error
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
        /// Calls that may wait on one connection for a slot under the
        /// server's concurrency limit (PROTOCOL.md section 8); a call beyond
        /// them fails at once with RESOURCE_EXHAUSTED.
        public var maximumQueuedCallsPerConnection: Int = 1024
        /// How long a new connection's calls wait for the server's answer to
        /// the settings opt-in before the default limit (256) is assumed.
        public var concurrencyLimitWait: Duration = .seconds(1)
        /// Back-pressure on server streaming: once this many messages of one
        /// call are buffered at the client (read from the socket, not yet
        /// taken by the consumer), the connection stops reading from its
        /// socket, so the server's writes wait in TCP. While it is paused,
        /// every call on that connection waits for its answers.
        public var streamBufferHighWatermark: Int = 64
        /// Where reading resumes: the consumer has taken all but this many.
        public var streamBufferLowWatermark: Int = 16
        public var connectTimeout: Duration
        /// Ping an idle server; `nil` disables.
        public var keepalive: Keepalive?
        /// Between connect attempts to one endpoint; also between lookups
        /// of a DNS name that failed.
        public var backoff: Backoff
        /// How often a `dns://` target is looked up again.
        public var dnsRefreshInterval: Duration
        /// Mutual TLS on every connection (this client's certificate, the
        /// roots the server must verify against, the identity it must
        /// have); `nil` connects in plaintext.
        public var tls: RPCTLSConfiguration?
        public var eventLoopGroup: any EventLoopGroup
        /// Built from ``tls`` by the client, shared by its endpoints.
        var tlsSource: TLSContextSource?
        /// How a DNS name becomes addresses: `getaddrinfo` unless a test
        /// scripts the answers.
        var dnsLookup: @Sendable (_ host: String, _ port: Int) async throws -> [RPCAddress] = DNSLookup.addresses(of:port:)

        public init(
            maximumFrameSize: Int = 4 * 1024 * 1024,
            connectTimeout: Duration = .seconds(5),
            keepalive: Keepalive? = Keepalive(),
            backoff: Backoff = Backoff(),
            dnsRefreshInterval: Duration = .seconds(30),
            tls: RPCTLSConfiguration? = nil,
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
        ) {
            self.tls = tls
            self.maximumFrameSize = maximumFrameSize
            self.connectTimeout = connectTimeout
            self.keepalive = keepalive
            self.backoff = backoff
            self.dnsRefreshInterval = dnsRefreshInterval
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

import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One endpoint of a client: its multiplexed connection, opened lazily, and
/// the count of calls in flight on it.
///
/// When the connection fails or the server sends `GoAway`, the next call
/// opens a new one; after a failed connect, attempts back off exponentially
/// (with jitter) and calls made meanwhile fail at once with UNAVAILABLE
/// marked ``RPCError/neverProcessed``, so the balancer can send them
/// elsewhere.
///
/// The balancer reads ``load`` and ``isAvailable`` on every pick of a
/// balanced client, so both are atomics, not the lock that guards the
/// connection state. The connection closes when the subchannel is shut
/// down or released (an endpoint that left a DNS answer closes once its last
/// call has ended).
final class Subchannel: Sendable {
    let address: RPCAddress
    private let configuration: RPCClient.Configuration
    private let logger: Logger
    private let state = Mutex(State.idle(failures: 0))
    /// Calls in flight here, counted by the caller from pick to end.
    private let calls = Atomic<Int>(0)
    /// `NIODeadline.uptimeNanoseconds` until which connecting backs off;
    /// 0 when it does not.
    private let backoffEnd = Atomic<UInt64>(0)

    private enum State {
        case idle(failures: Int)
        case connecting([CheckedContinuation<ClientConnection, any Error>], failures: Int)
        case ready(ClientConnection)
        case backingOff(until: ContinuousClock.Instant, failures: Int, reason: String)
        case shutDown
    }

    init(address: RPCAddress, configuration: RPCClient.Configuration, logger: Logger) {
        self.address = address
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "endpoint"] = "\(address)"
        self.logger = logger
    }

    deinit {
        if case .ready(let connection) = state.withLock({ $0 }) {
            connection.close()
        }
    }

    // MARK: What the balancer reads

    /// Calls in flight.
    var load: Int { calls.load(ordering: .relaxed) }

    func callStarted() { calls.wrappingAdd(1, ordering: .relaxed) }
    func callEnded() { calls.wrappingSubtract(1, ordering: .relaxed) }

    /// False while connecting is backing off after a failure.
    var isAvailable: Bool {
        let end = backoffEnd.load(ordering: .relaxed)
        return end == 0 || NIODeadline.now().uptimeNanoseconds >= end
    }

    /// When the backoff ends (0: not backing off), to find the least-bad
    /// endpoint when none is available.
    var backoffEndsAt: UInt64 { backoffEnd.load(ordering: .relaxed) }

    /// Where the connection stands, for snapshots (takes the lock).
    var connectivity: RPCClient.Connectivity {
        state.withLock { state in
            switch state {
            case .idle: .idle
            case .connecting: .connecting
            case .ready: .ready
            case .backingOff(let until, _, _): .backingOff(retryIn: max(.zero, until - .now))
            case .shutDown: .shutDown
            }
        }
    }

    // MARK: Lifecycle

    /// Closes the connection and refuses further calls; calls in flight fail
    /// with UNAVAILABLE.
    func shutdown() {
        let previous = state.withLock { state -> State in
            defer { state = .shutDown }
            return state
        }
        switch previous {
        case .ready(let connection):
            connection.close()
        case .connecting(let waiters, _):
            for waiter in waiters { waiter.resume(throwing: RPCClient.shutDownError) }
        default:
            break
        }
    }

    // MARK: Connection management

    private enum Next {
        case use(ClientConnection)
        case wait
        case connect(failures: Int)
        case fail(RPCError)
    }

    /// The open connection, if there is one: what most calls use, without
    /// the suspension of ``connection()``.
    var readyConnection: ClientConnection? {
        state.withLock { state in
            if case .ready(let connection) = state { return connection }
            return nil
        }
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
                        message: "cannot connect to \(address): \(reason); next attempt in \(wait.formatted(.units(allowed: [.milliseconds])))"
                    ).markedNeverProcessed())
                }
                state = .connecting([], failures: failures)
                return .connect(failures: failures)
            case .shutDown:
                return .fail(RPCClient.shutDownError)
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
                        return .failure(RPCError(code: .unavailable, message: "cannot connect to \(address)").markedNeverProcessed())
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
            result = .failure(RPCError(code: .unavailable, message: "cannot connect to \(address): \(error)").markedNeverProcessed())
        }
        let (waiters, orphan) = state.withLock { state -> ([CheckedContinuation<ClientConnection, any Error>], ClientConnection?) in
            guard case .connecting(let waiters, _) = state else {
                // Shut down meanwhile: nobody may use the new connection.
                return ([], try? result.get())
            }
            switch result {
            case .success(let connection):
                state = .ready(connection)
                backoffEnd.store(0, ordering: .relaxed)
            case .failure(let error):
                let delay = configuration.backoff.delay(afterFailures: failures + 1)
                state = .backingOff(until: .now + delay, failures: failures + 1, reason: "\(error.message)")
                let end = NIODeadline.now() + TimeAmount(delay)
                backoffEnd.store(max(1, end.uptimeNanoseconds), ordering: .relaxed)
            }
            return (waiters, nil)
        }
        orphan?.close()
        if case .failure(let error) = result {
            logger.debug("connect failed", metadata: ["error": "\(error.message)"])
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
        if orphan != nil { throw RPCClient.shutDownError }
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
                    let handler = ClientConnectionHandler(
                        keepalive: configuration.keepalive,
                        maximumFrameSize: configuration.maximumFrameSize,
                        maximumQueuedCalls: configuration.maximumQueuedCallsPerConnection,
                        limitWait: configuration.concurrencyLimitWait,
                        logger: logger
                    ) {
                        retire(channelID)
                    }
                    let pipeline = channel.pipeline.syncOperations
                    if let tls = configuration.tlsSource {
                        // No server name: identities are URI SANs, checked
                        // in the handshake (ClientTLSHandshakeHandler).
                        let context = try tls.context()
                        if let expected = tls.configuration.serverIdentity {
                            try pipeline.addHandler(NIOSSLClientHandler._makeSSLClientHandler(
                                context: context,
                                serverHostname: nil,
                                additionalPeerCertificateVerificationCallback: ClientTLSHandshakeHandler.identityCheck(expected: expected)
                            ))
                        } else {
                            try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        }
                        try pipeline.addHandler(ClientTLSHandshakeHandler(logger: logger))
                    }
                    if let keepalive = configuration.keepalive {
                        try pipeline.addHandler(IdleStateHandler(readTimeout: TimeAmount(keepalive.interval)))
                    }
                    try pipeline.addHandler(BackPressureHandler())
                    // Frames are split and decoded in the handler itself (FrameDecoder).
                    try pipeline.addHandler(handler)
                }
            }
            .connect(host: address.host, port: address.port)
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

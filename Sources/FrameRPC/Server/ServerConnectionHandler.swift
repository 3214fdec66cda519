import Foundation
import Logging
import NIOCore

/// The server side of one FrameRPC connection, on its event loop.
///
/// It checks every frame against the protocol, keeps the table of calls in
/// flight, hands each accepted call to the connection's task (which runs it
/// as a child task), and writes responses with flushes batched per event-loop
/// tick. Deadlines and `Cancel` are enforced here, so a call is answered
/// DEADLINE_EXCEEDED on time even when its handler ignores cancellation.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Framerpc_V1_Frame
    typealias OutboundOut = ByteBuffer

    private struct ActiveCall {
        let cancellation: CallCancellation
        var deadlineTimer: Scheduled<Void>?
    }

    private let router: RPCRouter
    private let configuration: RPCServer.Configuration
    private let incoming: AsyncStream<IncomingCall>.Continuation
    private let logger: Logger

    private var context: ChannelHandlerContext!
    private var handle: ServerConnectionHandle!
    private var remoteAddress = "unknown"
    /// The verified client certificate's identity, once TLS says so.
    private var peer: PeerIdentity?

    private var calls: [UInt64: ActiveCall] = [:]
    /// Handler tasks still running, including those of calls that already
    /// ended on the wire (cancelled or timed out) but have not returned: the
    /// concurrency limit counts these, so ignoring cancellation cannot
    /// multiply the work a connection causes.
    private var handlersRunning = 0
    private var lastCallID: UInt64 = 0
    /// Set once GoAway was sent: calls above it are refused.
    private var goAwayLastCallID: UInt64?
    private var peerSentGoAway = false
    private var closing = false
    private var flushPending = false
    private var graceTimer: Scheduled<Void>?
    private var keepalive = KeepaliveState()

    init(
        router: RPCRouter,
        configuration: RPCServer.Configuration,
        incoming: AsyncStream<IncomingCall>.Continuation,
        logger: Logger
    ) {
        self.router = router
        self.configuration = configuration
        self.incoming = incoming
        self.logger = logger
    }

    /// The thread-safe face of this handler, for the call tasks.
    var connectionHandle: ServerConnectionHandle { handle }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.handle = ServerConnectionHandle(
            eventLoop: context.eventLoop,
            allocator: context.channel.allocator,
            handler: NIOLoopBound(self, eventLoop: context.eventLoop),
            maximumFrameSize: configuration.maximumFrameSize
        )
        if let address = context.channel.remoteAddress { remoteAddress = "\(address)" }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        keepalive.heardFromPeer()
        let frame = unwrapInboundIn(data)
        switch frame.kind {
        case .request(let request):
            receiveRequest(callID: frame.callID, request)
        case .cancel:
            receiveCancel(callID: frame.callID)
        case .message, .halfClose:
            // Request streams are reserved for client and bidirectional
            // streaming; no method takes them yet, and frames for calls that
            // are not streaming are ignored like frames for ended calls.
            break
        case .ping(let ping):
            guard frame.callID == 0 else { return violate(.unexpected("Ping with a call id")) }
            write(.pong(ping.opaque))
        case .pong:
            keepalive.pongReceived()
        case .goAway:
            peerSentGoAway = true
            closeIfDone()
        case .response:
            violate(.unexpected("Response"))
        case nil:
            violate(.emptyFrame)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let violation = error as? ProtocolViolation {
            violate(violation)
        } else {
            logger.debug("connection error", metadata: ["peer": "\(remoteAddress)", "error": "\(error)"])
            closeNow()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event, let settings = configuration.keepalive {
            sendKeepalivePing(timeout: settings.timeout)
        } else if let verified = event as? PeerVerified {
            peer = verified.identity
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        for call in calls.values {
            call.deadlineTimer?.cancel()
            call.cancellation.cancel()
        }
        calls.removeAll()
        graceTimer?.cancel()
        keepalive.cancel()
        incoming.finish()
        context.fireChannelInactive()
    }

    // MARK: Calls

    private func receiveRequest(callID: UInt64, _ request: Framerpc_V1_Request) {
        guard callID & 1 == 1, callID > lastCallID else {
            return violate(ProtocolViolation(reason: "call id \(callID) is not odd and above the last one (\(lastCallID))"))
        }
        lastCallID = callID

        if goAwayLastCallID != nil {
            return answer(callID, RPCError(code: .unavailable, message: "server is shutting down"))
        }
        let metadata = Metadata(trusted: request.metadata)
        if let error = metadata.validationError {
            return answer(callID, error)
        }
        guard let method = router.methods[request.method] else {
            return answer(callID, RPCError(code: .unimplemented, message: "unknown method '\(request.method.prefix(256))'"))
        }
        if request.streaming {
            return answer(callID, RPCError(code: .unimplemented, message: "method '\(request.method)' does not take a request stream"))
        }
        guard handlersRunning < configuration.maximumConcurrentCallsPerConnection else {
            return answer(callID, RPCError(
                code: .resourceExhausted,
                message: "too many concurrent calls on this connection (limit \(configuration.maximumConcurrentCallsPerConnection))"
            ))
        }

        var deadline: ContinuousClock.Instant?
        var timer: Scheduled<Void>?
        if request.timeoutMicros > 0 {
            let micros = Int64(min(request.timeoutMicros, Self.longestTimeoutMicros))
            deadline = .now + .microseconds(micros)
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: .microseconds(micros)) { [self] in
                deadlineExceeded(callID: callID)
            }
        }
        let cancellation = CallCancellation()
        calls[callID] = ActiveCall(cancellation: cancellation, deadlineTimer: timer)
        handlersRunning += 1
        incoming.yield(IncomingCall(
            context: ServerContext(
                method: request.method,
                metadata: metadata,
                deadline: deadline,
                remoteAddress: remoteAddress,
                callID: callID,
                peer: peer
            ),
            payload: request.payload,
            method: method,
            cancellation: cancellation,
            connection: handle
        ))
    }

    /// A week: longer budgets are treated as this, so the clock never overflows.
    private static let longestTimeoutMicros: UInt64 = 7 * 24 * 3600 * 1_000_000

    private func receiveCancel(callID: UInt64) {
        guard let call = calls.removeValue(forKey: callID) else { return }
        call.deadlineTimer?.cancel()
        call.cancellation.cancel()
        closeIfDone()
    }

    private func deadlineExceeded(callID: UInt64) {
        guard let call = calls.removeValue(forKey: callID) else { return }
        call.cancellation.cancel()
        answer(callID, RPCError(code: .deadlineExceeded, message: "deadline exceeded"))
        closeIfDone()
    }

    /// Sends a call's final `Response`, built by its task, unless the call
    /// already ended (cancelled or timed out). Called once per handler task.
    func complete(callID: UInt64, frame: ByteBuffer) {
        handlersRunning -= 1
        guard let call = calls.removeValue(forKey: callID) else { return }
        call.deadlineTimer?.cancel()
        write(frame)
        closeIfDone()
    }

    /// Sends one streamed message of a call in flight; the future completes
    /// once it is written, which paces the handler to the socket.
    func writeMessage(callID: UInt64, frame: ByteBuffer) -> EventLoopFuture<Void> {
        guard let context, !closing, calls[callID] != nil else {
            return handle.eventLoop.makeFailedFuture(RPCError(code: .cancelled, message: "call has ended"))
        }
        return context.writeAndFlush(wrapOutboundOut(frame))
    }

    private func answer(_ callID: UInt64, _ error: RPCError) {
        write(Self.responseFrame(callID: callID, error: error, allocator: context.channel.allocator))
    }

    // MARK: Drain and close

    /// Sends `GoAway{code: 0}`, refuses later calls, lets the ones in flight
    /// finish, and closes when they have or when `grace` is over.
    func startDraining(grace: Duration) {
        guard !closing, goAwayLastCallID == nil else { return }
        goAwayLastCallID = lastCallID
        write(.goAway(lastCallID: lastCallID, code: 0, message: "server is shutting down"))
        if calls.isEmpty {
            closeAfterWrites()
        } else {
            graceTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(grace)) { [self] in
                logger.info("drain grace period over; closing connection", metadata: ["calls_in_flight": "\(calls.count)"])
                closeNow()
            }
        }
    }

    private func closeIfDone() {
        if calls.isEmpty, goAwayLastCallID != nil || peerSentGoAway {
            closeAfterWrites()
        }
    }

    private func violate(_ violation: ProtocolViolation) {
        guard !closing else { return }
        logger.debug("protocol violation", metadata: ["peer": "\(remoteAddress)", "reason": "\(violation.reason)"])
        write(.goAway(lastCallID: lastCallID, code: RPCError.Code.internal.rawValue, message: violation.reason))
        closeAfterWrites()
    }

    /// Closes once everything written so far has reached the socket.
    private func closeAfterWrites() {
        guard !closing else { return }
        closing = true
        let empty = context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(wrapOutboundOut(empty)).assumeIsolated().whenComplete { [self] _ in
            closeNow()
        }
    }

    private func closeNow() {
        closing = true
        context?.close(promise: nil)
    }

    // MARK: Keepalive

    private func sendKeepalivePing(timeout: Duration) {
        guard !closing, !keepalive.awaitingPong else { return }
        let opaque = keepalive.nextOpaque()
        write(.ping(opaque))
        keepalive.awaitPong(context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            logger.debug("keepalive timeout; closing connection", metadata: ["peer": "\(remoteAddress)"])
            closeNow()
        })
    }

    // MARK: Writing

    private func write(_ frame: Framerpc_V1_Frame) {
        var buffer = context.channel.allocator.buffer(capacity: 32)
        buffer.writeFrame(frame)
        write(buffer)
    }

    /// Writes now and flushes once at the end of this event-loop tick, so
    /// responses finished together share one system call.
    private func write(_ buffer: ByteBuffer) {
        guard let context else { return }
        context.write(wrapOutboundOut(buffer), promise: nil)
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushPending = false
            self.context?.flush()
        }
    }
}

@available(*, unavailable)
extension ServerConnectionHandler: Sendable {}

extension ServerConnectionHandler {
    static func responseFrame(callID: UInt64, error: RPCError, allocator: ByteBufferAllocator) -> ByteBuffer {
        var response = Framerpc_V1_Response()
        response.status = error.wireStatus
        response.trailers = error.trailers.storage
        return frame(callID: callID, response: response, allocator: allocator)
    }

    static func responseFrame(callID: UInt64, outcome: ServerOutcome, allocator: ByteBufferAllocator) -> ByteBuffer {
        var response = Framerpc_V1_Response()
        response.status = Framerpc_V1_Status()
        response.payload = outcome.payload
        response.trailers = outcome.trailers.storage
        return frame(callID: callID, response: response, allocator: allocator)
    }

    private static func frame(callID: UInt64, response: Framerpc_V1_Response, allocator: ByteBufferAllocator) -> ByteBuffer {
        let body: [UInt8] = try! response.serializedBytes()
        var buffer = allocator.buffer(capacity: body.count + 16)
        buffer.writeFrame(callID: callID, kind: .response, body: body)
        return buffer
    }
}

/// The thread-safe face of a ``ServerConnectionHandler``: what a call's task
/// may do to its connection, each hopping to the event loop.
struct ServerConnectionHandle: Sendable {
    let eventLoop: any EventLoop
    let allocator: ByteBufferAllocator
    let handler: NIOLoopBound<ServerConnectionHandler>
    let maximumFrameSize: Int

    func complete(callID: UInt64, frame: ByteBuffer) {
        if eventLoop.inEventLoop {
            handler.value.complete(callID: callID, frame: frame)
        } else {
            eventLoop.execute { handler.value.complete(callID: callID, frame: frame) }
        }
    }

    func writeMessage(callID: UInt64, frame: ByteBuffer) async throws {
        try await eventLoop.flatSubmit { handler.value.writeMessage(callID: callID, frame: frame) }.get()
    }

    func drain(grace: Duration) {
        eventLoop.execute { handler.value.startDraining(grace: grace) }
    }
}

import Foundation
import Logging
import NIOCore

/// The client side of one FrameRPC connection, on its event loop.
///
/// Call ids are assigned here, in the same step that writes the `Request`
/// frame, so they are strictly increasing on the wire whatever order tasks
/// submit in. Every call in flight is failed at once with UNAVAILABLE when
/// the connection dies.
///
/// The server's per-connection concurrency limit is honoured
/// (PROTOCOL.md section 8): the first frame asks for it with the opt-in
/// `Ping`, and ``CallAdmission`` holds calls beyond it in a bounded queue,
/// each within its own deadline, so a burst waits instead of being refused.
/// A server that predates the extension answers only the `Pong`; the
/// default limit (256) holds then.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Framerpc_V1_Frame
    typealias OutboundOut = ByteBuffer

    /// Told when this connection must no longer take new calls (GoAway or
    /// close), so the client opens another.
    private let onRetire: @Sendable () -> Void
    private let keepalive: Keepalive?
    private let logger: Logger
    private let limitWait: Duration

    private var context: ChannelHandlerContext!
    private var calls: [UInt64: PendingCall] = [:]
    private var nextCallID: UInt64 = 1
    private var goAwayLastCallID: UInt64?
    private var closed = false
    private var retired = false
    private var flushPending = false
    private var keepaliveState = KeepaliveState()
    private var admission: CallAdmission<PendingCall>
    private var limitWaitTimer: Scheduled<Void>?

    /// - Parameters:
    ///   - maximumQueuedCalls: calls that may wait for a slot at once.
    ///   - limitWait: how long calls wait for the server's answer to the
    ///     opt-in `Ping` before the default limit is assumed.
    init(
        keepalive: Keepalive?,
        maximumQueuedCalls: Int = 1024,
        limitWait: Duration = .seconds(1),
        logger: Logger,
        onRetire: @escaping @Sendable () -> Void
    ) {
        self.keepalive = keepalive
        self.logger = logger
        self.onRetire = onRetire
        self.limitWait = limitWait
        self.admission = CallAdmission(maximumQueued: maximumQueuedCalls)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { askForLimit() }
    }

    func channelActive(context: ChannelHandlerContext) {
        askForLimit()
        context.fireChannelActive()
    }

    /// Sends the opt-in `Ping` once, and starts the wait for its answer.
    private func askForLimit() {
        guard limitWaitTimer == nil, !admission.isSettled else { return }
        write(.ping(ConcurrencySettings.optInOpaque))
        limitWaitTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limitWait)) { [self] in
            guard !admission.isSettled else { return }
            logger.debug("no answer to the settings ping in time; assuming the default concurrency limit")
            settle(limit: nil)
        }
    }

    /// The server's limit is known: sends the calls it lets through.
    private func settle(limit: Int?) {
        limitWaitTimer?.cancel()
        send(admission.settle(limit: limit))
    }

    // MARK: Calls from tasks

    func start(_ call: PendingCall, request body: [UInt8]) {
        if call.cancelledBeforeStart {
            return call.fail(RPCError(code: .cancelled, message: "call cancelled"))
        }
        if closed || goAwayLastCallID != nil {
            var error = RPCError(code: .unavailable, message: "connection is closing")
            error.neverProcessed = true
            return call.fail(error)
        }
        if let deadline = call.deadline, deadline <= .now() {
            return call.fail(RPCError(code: .deadlineExceeded, message: "deadline exceeded before the call was sent").markedNeverProcessed())
        }
        call.request = body
        if let deadline = call.deadline {
            call.deadlineTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self, call] in
                deadlineExceeded(call)
            }
        }
        switch admission.submit(call) {
        case .send:
            send(call)
        case .queue:
            call.isQueued = true
        case .reject:
            call.fail(RPCError(
                code: .resourceExhausted,
                message: "too many calls waiting on this connection (\(admission.maximumQueued) queued; the server allows \(admission.limit) at once)"
            ))
        }
    }

    /// Writes the `Request` of a call the admission let through.
    private func send(_ call: PendingCall) {
        call.isQueued = false
        let callID = nextCallID
        nextCallID += 2
        call.callID = callID
        calls[callID] = call
        let body = call.request
        call.request = []
        var buffer = context.channel.allocator.buffer(capacity: body.count + 16)
        buffer.writeFrame(callID: callID, kind: .request, body: body)
        write(buffer)
    }

    private func send(_ released: [PendingCall]) {
        for call in released { send(call) }
    }

    /// A call that was sent has ended here: its slot goes to the next waiting one.
    private func ended() {
        send(admission.ended())
    }

    func cancel(_ call: PendingCall) {
        if call.isQueued {
            _ = admission.remove { $0 === call }
            call.isQueued = false
            return call.fail(RPCError(code: .cancelled, message: "call cancelled"))
        }
        guard call.callID != 0 else {
            call.cancelledBeforeStart = true
            return
        }
        guard calls.removeValue(forKey: call.callID) != nil else { return }
        sendCancel(callID: call.callID)
        call.fail(RPCError(code: .cancelled, message: "call cancelled"))
        ended()
        closeIfDone()
    }

    private func deadlineExceeded(_ call: PendingCall) {
        if call.isQueued {
            // Never sent: the server knows nothing of it, and nothing is cancelled there.
            _ = admission.remove { $0 === call }
            call.isQueued = false
            var error = RPCError(code: .deadlineExceeded, message: "deadline exceeded while waiting for a call slot on the connection")
            error.neverProcessed = true
            return call.fail(error)
        }
        guard call.callID != 0, calls.removeValue(forKey: call.callID) != nil else { return }
        sendCancel(callID: call.callID)
        call.fail(RPCError(code: .deadlineExceeded, message: "deadline exceeded"))
        ended()
        closeIfDone()
    }

    private func sendCancel(callID: UInt64) {
        guard !closed else { return }
        var buffer = context.channel.allocator.buffer(capacity: 8)
        buffer.writeFrame(callID: callID, kind: .cancel, body: [])
        write(buffer)
    }

    /// Closes the connection; calls in flight fail with UNAVAILABLE.
    func close() {
        retire()
        context.close(promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        keepaliveState.heardFromPeer()
        let frame = unwrapInboundIn(data)
        switch frame.kind {
        case .response(let response):
            guard let call = calls.removeValue(forKey: frame.callID) else { return }
            if response.status.code == 0 {
                call.succeed(ClientOutcome(trailers: Metadata(trusted: response.trailers), payload: response.payload))
            } else {
                call.fail(RPCError(status: response.status, trailers: response.trailers))
            }
            ended()
            closeIfDone()
        case .message(let message):
            guard let call = calls[frame.callID] else { return }
            if !call.yield(message.payload) {
                calls.removeValue(forKey: frame.callID)
                sendCancel(callID: frame.callID)
                call.fail(RPCError(code: .internal, message: "server sent a stream message on a unary call"))
                ended()
            }
        case .ping(let ping):
            write(.pong(ping.opaque))
        case .pong(let pong):
            keepaliveState.pongReceived()
            // The answer to the opt-in without Settings before it: a server
            // that predates the extension; the default limit holds.
            if pong.opaque == ConcurrencySettings.optInOpaque, !admission.isSettled { settle(limit: nil) }
        case .settings(let settings):
            guard frame.callID == 0 else { return violate(.unexpected("Settings with a call id")) }
            receiveSettings(settings)
        case .goAway(let goAway):
            receiveGoAway(goAway)
        case .request, .halfClose, .cancel:
            violate(.unexpected(frame.kindName))
        case nil:
            violate(.emptyFrame)
        }
    }

    /// A new limit: acknowledged at once (the server enforces a lowered
    /// one only after that), applied to the calls not yet sent.
    private func receiveSettings(_ settings: Framerpc_V1_Settings) {
        write(.ping(ConcurrencySettings.acknowledgementOpaque))
        if settings.maxConcurrentCalls > 0 {
            settle(limit: Int(settings.maxConcurrentCalls))
        } else if !admission.isSettled {
            settle(limit: nil)
        }
    }

    private func receiveGoAway(_ goAway: Framerpc_V1_GoAway) {
        goAwayLastCallID = min(goAway.lastCallID, goAwayLastCallID ?? .max)
        retire()
        failWaiting(RPCError(code: .unavailable, message: "server is shutting down").markedNeverProcessed())
        let last = goAwayLastCallID!
        // Calls the server will not complete were never started there.
        for (callID, call) in calls where callID > last {
            calls.removeValue(forKey: callID)
            _ = admission.ended()
            var error = RPCError(code: .unavailable, message: "server is shutting down")
            error.neverProcessed = true
            call.fail(error)
        }
        if goAway.code != 0 {
            logger.warning("server ended the connection", metadata: ["code": "\(goAway.code)", "reason": "\(goAway.message)"])
            failAll(RPCError(code: .unavailable, message: "server ended the connection: \(goAway.message)"))
            context.close(promise: nil)
        } else {
            closeIfDone()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let violation = error as? ProtocolViolation {
            violate(violation)
        } else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event, let keepalive {
            sendKeepalivePing(timeout: keepalive.timeout)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        retire()
        keepaliveState.cancel()
        failAll(RPCError(code: .unavailable, message: "connection closed"))
        context.fireChannelInactive()
    }

    // MARK: Helpers

    private func failAll(_ error: RPCError) {
        // Calls still waiting were never sent: safe to send elsewhere.
        failWaiting(error.markedNeverProcessed())
        let failed = calls.values
        calls.removeAll()
        for call in failed { call.fail(error) }
    }

    private func failWaiting(_ error: RPCError) {
        limitWaitTimer?.cancel()
        for call in admission.removeAllWaiting() {
            call.isQueued = false
            call.fail(error)
        }
    }

    private func retire() {
        guard !retired else { return }
        retired = true
        onRetire()
    }

    /// After a GoAway, the connection closes once its last call has ended.
    private func closeIfDone() {
        if goAwayLastCallID != nil, calls.isEmpty, admission.queued == 0, !closed {
            context.close(promise: nil)
        }
    }

    private func violate(_ violation: ProtocolViolation) {
        guard !closed else { return }
        logger.warning("protocol violation by server", metadata: ["reason": "\(violation.reason)"])
        write(.goAway(lastCallID: 0, code: RPCError.Code.internal.rawValue, message: violation.reason))
        failAll(RPCError(code: .unavailable, message: "protocol violation by server: \(violation.reason)"))
        context.close(promise: nil)
    }

    private func sendKeepalivePing(timeout: Duration) {
        guard !closed, !keepaliveState.awaitingPong else { return }
        write(.ping(keepaliveState.nextOpaque()))
        keepaliveState.awaitPong(context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            logger.warning("keepalive timeout; closing connection")
            failAll(RPCError(code: .unavailable, message: "connection lost (keepalive timeout)"))
            context.close(promise: nil)
        })
    }

    private func write(_ frame: Framerpc_V1_Frame) {
        var buffer = context.channel.allocator.buffer(capacity: 32)
        buffer.writeFrame(frame)
        write(buffer)
    }

    /// Writes now, flushes once at the end of this event-loop tick.
    private func write(_ buffer: ByteBuffer) {
        context.write(wrapOutboundOut(buffer), promise: nil)
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushPending = false
            context.flush()
        }
    }
}

@available(*, unavailable)
extension ClientConnectionHandler: Sendable {}

/// One connection to a server, as the calling tasks see it.
struct ClientConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<ClientConnectionHandler>

    var eventLoop: any EventLoop { channel.eventLoop }

    func start(_ call: PendingCall, request body: [UInt8]) {
        eventLoop.execute { handler.value.start(call, request: body) }
    }

    func cancel(_ call: PendingCall) {
        eventLoop.execute { handler.value.cancel(call) }
    }

    func close() {
        eventLoop.execute { handler.value.close() }
    }
}

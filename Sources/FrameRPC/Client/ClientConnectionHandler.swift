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
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Told when this connection must no longer take new calls (GoAway or
    /// close), so the client opens another.
    private let onRetire: @Sendable () -> Void
    private let keepalive: Keepalive?
    private let logger: Logger
    private let limitWait: Duration
    /// Splits the bytes read into frames (``FrameDecoder``).
    private var decoder: NIOSingleStepByteToMessageProcessor<FrameDecoder>
    /// The byte stream broke the framing: nothing after it is read.
    private var streamBroken = false

    private var context: ChannelHandlerContext?
    private var calls: [UInt64: PendingCall] = [:]
    private var nextCallID: UInt64 = 1
    private var closed = false
    private var retired = false
    /// Keepalive, flush coalescing, drain, violations: shared with the server.
    private var machine: ConnectionStateMachine
    private var pongTimer: Scheduled<Void>?
    private var admission: CallAdmission<PendingCall>
    private var limitWaitTimer: Scheduled<Void>?
    /// Streaming calls whose consumers are behind (``StreamFlow``): while
    /// any is, the socket is not read.
    private var pausedCalls: Set<ObjectIdentifier> = []
    /// A `read()` held back while paused, issued when the last call drains.
    private var readHeld = false

    /// - Parameters:
    ///   - maximumQueuedCalls: calls that may wait for a slot at once.
    ///   - limitWait: how long calls wait for the server's answer to the
    ///     opt-in `Ping` before the default limit is assumed.
    init(
        keepalive: Keepalive?,
        maximumFrameSize: Int,
        maximumQueuedCalls: Int = 1024,
        limitWait: Duration = .seconds(1),
        logger: Logger,
        onRetire: @escaping @Sendable () -> Void
    ) {
        self.keepalive = keepalive
        self.logger = logger
        self.onRetire = onRetire
        self.limitWait = limitWait
        self.decoder = NIOSingleStepByteToMessageProcessor(FrameDecoder(maximumFrameSize: maximumFrameSize))
        self.admission = CallAdmission(maximumQueued: maximumQueuedCalls)
        self.machine = ConnectionStateMachine(keepalive: keepalive)
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
        guard let context, limitWaitTimer == nil, !admission.isSettled else { return }
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

    func start(_ call: PendingCall, request body: RequestBody) {
        if call.cancelledBeforeStart {
            return call.fail(RPCError(code: .cancelled, message: "call cancelled"))
        }
        if closed || !machine.acceptsNewCalls {
            var error = RPCError(code: .unavailable, message: "connection is closing")
            error.neverProcessed = true
            return call.fail(error)
        }
        if let deadline = call.deadline, deadline <= .now() {
            return call.fail(RPCError(code: .deadlineExceeded, message: "deadline exceeded before the call was sent").markedNeverProcessed())
        }
        guard let context else {
            return call.fail(RPCError(code: .unavailable, message: "connection is closing").markedNeverProcessed())
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
        guard let body = call.request else { return }
        call.request = nil
        write(OutboundFrame.request(callID: callID, body: body))
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
        releaseFlow(of: call)
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
        releaseFlow(of: call)
        sendCancel(callID: call.callID)
        call.fail(RPCError(code: .deadlineExceeded, message: "deadline exceeded"))
        ended()
        closeIfDone()
    }

    private func sendCancel(callID: UInt64) {
        guard !closed else { return }
        var buffer = ByteBuffer()
        buffer.writeFrame(callID: callID, kind: .cancel, body: [])
        write(buffer)
    }

    /// Closes the connection; calls in flight fail with UNAVAILABLE.
    func close() {
        retire()
        context?.close(promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed, !streamBroken else { return }
        do {
            try decoder.process(buffer: unwrapInboundIn(data)) { frame in receive(frame) }
        } catch {
            streamBroken = true
            errorCaught(context: context, error: error)
        }
    }

    private func receive(_ frame: InboundFrame) {
        guard !closed else { return }
        machine.frameReceived()
        if let timer = pongTimer {
            timer.cancel()
            pongTimer = nil
        }
        switch frame.kind {
        case .response(let response):
            guard let call = calls.removeValue(forKey: frame.callID) else { return }
            releaseFlow(of: call)
            if response.status.code == 0 {
                call.succeed(ClientOutcome(trailers: Metadata(trusted: response.trailers), payload: response.payload))
            } else {
                call.fail(RPCError(status: response.status, trailers: response.trailers))
            }
            ended()
            closeIfDone()
        case .message(let payload):
            guard let call = calls[frame.callID] else { return }
            if !call.yield(payload) {
                calls.removeValue(forKey: frame.callID)
                releaseFlow(of: call)
                sendCancel(callID: frame.callID)
                call.fail(RPCError(code: .internal, message: "server sent a stream message on a unary call"))
                ended()
            } else if let flow = call.flow, flow.produced(), flow.pause() {
                pausedCalls.insert(ObjectIdentifier(call))
            }
        case .ping(let opaque):
            write(.pong(opaque))
        case .pong(let opaque):
            // The answer to the opt-in without Settings before it: a server
            // that predates the extension; the default limit holds.
            if opaque == ConcurrencySettings.optInOpaque, !admission.isSettled { settle(limit: nil) }
        case .settings(let settings):
            guard frame.callID == 0 else { return violate(.unexpected("Settings with a call id")) }
            receiveSettings(settings)
        case .goAway(let goAway):
            receiveGoAway(goAway)
        case .request, .halfClose, .cancel:
            violate(.unexpected(frame.kindName))
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
        retire()
        let action = machine.goAwayReceived(lastCallID: goAway.lastCallID, code: goAway.code)
        let last: UInt64
        switch action {
        case .none: return
        case .drain(let lastCallID), .closeNow(let lastCallID): last = lastCallID
        }
        failWaiting(RPCError(code: .unavailable, message: "server is shutting down").markedNeverProcessed())
        // Calls the server will not complete were never started there.
        for (callID, call) in calls where callID > last {
            calls.removeValue(forKey: callID)
            releaseFlow(of: call)
            _ = admission.ended()
            var error = RPCError(code: .unavailable, message: "server is shutting down")
            error.neverProcessed = true
            call.fail(error)
        }
        if case .closeNow = action {
            logger.warning("server ended the connection", metadata: ["code": "\(goAway.code)", "reason": "\(goAway.message)"])
            failAll(RPCError(code: .unavailable, message: "server ended the connection: \(goAway.message)"))
            context?.close(promise: nil)
        } else {
            closeIfDone()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if machine.readComplete() == .flushNow { context.flush() }
        context.fireChannelReadComplete()
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
        if case IdleStateHandler.IdleStateEvent.read = event {
            perform(machine.idleTimerFired(at: .now()))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        retire()
        machine.closing()
        pongTimer?.cancel()
        failAll(RPCError(code: .unavailable, message: "connection closed"))
        context.fireChannelInactive()
    }

    // MARK: Back-pressure

    /// NIO asks for the next socket read: held while a consumer is behind.
    func read(context: ChannelHandlerContext) {
        if pausedCalls.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    /// A paused call's consumer drained to its low watermark.
    func resumeReading(for call: PendingCall) {
        guard pausedCalls.remove(ObjectIdentifier(call)) != nil else { return }
        resumeIfNoCallPaused()
    }

    /// A call ended: it holds reads no longer.
    private func releaseFlow(of call: PendingCall) {
        guard call.flow != nil, pausedCalls.remove(ObjectIdentifier(call)) != nil else { return }
        resumeIfNoCallPaused()
    }

    private func resumeIfNoCallPaused() {
        guard pausedCalls.isEmpty, readHeld, let context else { return }
        readHeld = false
        context.read()
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

    /// After a GoAway, the connection closes once its last call has ended
    /// (its `Cancel`, if any, written first).
    private func closeIfDone() {
        guard !closed, machine.callEnded(callsInFlight: calls.count + admission.queued) != .none, let context else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { [self] _ in
            self.context?.close(promise: nil)
        }
    }

    private func violate(_ violation: ProtocolViolation) {
        guard !closed, case .sendGoAwayAndClose(let reason) = machine.violation(violation) else { return }
        logger.warning("protocol violation by server", metadata: ["reason": "\(reason)"])
        write(.goAway(lastCallID: 0, code: RPCError.Code.internal.rawValue, message: reason))
        failAll(RPCError(code: .unavailable, message: "protocol violation by server: \(reason)"))
        context?.close(promise: nil)
    }

    private func perform(_ action: ConnectionStateMachine.KeepaliveAction) {
        switch action {
        case .none:
            break
        case .sendPing(let opaque, let deadline):
            guard let context, !closed else { return }
            write(.ping(opaque))
            pongTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                perform(machine.pongTimerFired(at: .now()))
            }
        case .closeDeadConnection:
            logger.warning("keepalive timeout; closing connection")
            failAll(RPCError(code: .unavailable, message: "connection lost (keepalive timeout)"))
            context?.close(promise: nil)
        }
    }

    private func write(_ frame: Framerpc_V1_Frame) {
        var buffer = ByteBuffer()
        buffer.writeFrame(frame)
        write(buffer)
    }

    /// Writes now; flushes at the end of the read burst, or once at the end
    /// of this event-loop tick (``ConnectionStateMachine``).
    private func write(_ buffer: ByteBuffer) {
        guard let context else { return }
        context.write(wrapOutboundOut(buffer), promise: nil)
        guard machine.wrote() == .scheduleFlush else { return }
        context.eventLoop.assumeIsolated().execute { [self] in
            if machine.flushRan() == .flushNow { self.context?.flush() }
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

    /// Runs at once when the calling task is already on the connection's
    /// event loop (a handler served on it), else hops there.
    func start(_ call: PendingCall, request body: RequestBody) {
        if eventLoop.inEventLoop {
            handler.value.start(call, request: body)
        } else {
            eventLoop.execute { handler.value.start(call, request: body) }
        }
    }

    func cancel(_ call: PendingCall) {
        if eventLoop.inEventLoop {
            handler.value.cancel(call)
        } else {
            eventLoop.execute { handler.value.cancel(call) }
        }
    }

    /// From a streaming call's consumer: it caught up; read again.
    func resumeReading(for call: PendingCall) {
        if eventLoop.inEventLoop {
            handler.value.resumeReading(for: call)
        } else {
            eventLoop.execute { handler.value.resumeReading(for: call) }
        }
    }

    func close() {
        eventLoop.execute { handler.value.close() }
    }
}

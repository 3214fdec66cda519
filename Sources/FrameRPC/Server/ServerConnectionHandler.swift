import Foundation
import Logging
import NIOCore

/// The server side of one FrameRPC connection, on its event loop.
///
/// It checks every frame against the protocol, keeps the table of calls in
/// flight, starts each accepted call's handler as a task the connection owns
/// (preferring this event loop as its executor, so a call normally never
/// leaves this thread), and writes responses with flushes batched per
/// event-loop tick. ``finished`` succeeds once the connection has closed and
/// every handler task has returned, so the server's task that waits for it
/// outlives them all. Deadlines and `Cancel` are enforced here, so a call is answered
/// DEADLINE_EXCEEDED on time even when its handler ignores cancellation.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct ActiveCall {
        /// The handler's task; cancelled by `Cancel`, the deadline or the close.
        let task: Task<Void, Never>
        var deadlineTimer: Scheduled<Void>?
    }

    private let router: RPCRouter
    private let configuration: RPCServer.Configuration
    private let interceptors: [any ServerInterceptor]
    private let logger: Logger
    /// Splits the bytes read into frames (``FrameDecoder``).
    private var decoder: NIOSingleStepByteToMessageProcessor<FrameDecoder>
    /// The byte stream broke the framing: nothing after it is read.
    private var streamBroken = false

    private var context: ChannelHandlerContext?
    private var handle: ServerConnectionHandle?
    /// Where handler tasks run; `nil`: the global concurrent executor.
    private var executor: EventLoopTaskExecutor?
    private var finishedPromise: EventLoopPromise<Void>?
    private var inactive = false
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
    /// Set once this handler started closing the channel.
    private var closing = false
    private var graceTimer: Scheduled<Void>?
    /// Keepalive, flush coalescing, drain, violations: shared with the client.
    private var machine: ConnectionStateMachine
    private var pongTimer: Scheduled<Void>?
    /// The concurrency limit told to the client and enforced (PROTOCOL.md section 8).
    private var limit: AnnouncedConcurrencyLimit

    init(
        router: RPCRouter,
        configuration: RPCServer.Configuration,
        interceptors: [any ServerInterceptor],
        logger: Logger
    ) {
        self.router = router
        self.configuration = configuration
        self.interceptors = interceptors
        self.logger = logger
        self.decoder = NIOSingleStepByteToMessageProcessor(FrameDecoder(maximumFrameSize: configuration.maximumFrameSize))
        self.limit = AnnouncedConcurrencyLimit(limit: configuration.maximumConcurrentCallsPerConnection)
        self.machine = ConnectionStateMachine(keepalive: configuration.keepalive)
    }

    /// The thread-safe face of this handler, for the call tasks. Valid once
    /// the handler is in a pipeline.
    var connectionHandle: ServerConnectionHandle {
        guard let handle else { preconditionFailure("ServerConnectionHandler used before it was added to a pipeline") }
        return handle
    }

    /// Succeeds once the connection has closed and every handler task it
    /// started has returned. Valid once the handler is in a pipeline.
    var finished: EventLoopFuture<Void> {
        guard let finishedPromise else { preconditionFailure("ServerConnectionHandler used before it was added to a pipeline") }
        return finishedPromise.futureResult
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.handle = ServerConnectionHandle(
            eventLoop: context.eventLoop,
            allocator: context.channel.allocator,
            handler: NIOLoopBound(self, eventLoop: context.eventLoop),
            maximumFrameSize: configuration.maximumFrameSize
        )
        finishedPromise = context.eventLoop.makePromise()
        if configuration.runsHandlersOnEventLoop {
            executor = EventLoopTaskExecutor(eventLoop: context.eventLoop)
        }
        if let address = context.channel.remoteAddress { remoteAddress = "\(address)" }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        // Removed without going inactive (the pipeline torn down): nothing
        // can start or answer a call any more.
        connectionEnded()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, !streamBroken else { return }
        do {
            try decoder.process(buffer: unwrapInboundIn(data)) { frame in receive(frame) }
        } catch {
            streamBroken = true
            errorCaught(context: context, error: error)
        }
    }

    private func receive(_ frame: InboundFrame) {
        guard !closing else { return }
        machine.frameReceived()
        if let timer = pongTimer {
            timer.cancel()
            pongTimer = nil
        }
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
        case .ping(let opaque):
            guard frame.callID == 0 else { return violate(.unexpected("Ping with a call id")) }
            receivePing(opaque)
        case .pong:
            break
        case .goAway(let goAway):
            // The client sends no new calls; the server closes once it has
            // answered those in flight (or at once for an error code).
            switch machine.goAwayReceived(lastCallID: goAway.lastCallID, code: goAway.code) {
            case .none: break
            case .drain: closeIfDone()
            case .closeNow: closeNow()
            }
        case .response:
            violate(.unexpected("Response"))
        case .settings:
            violate(.unexpected("Settings"))
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
            logger.debug("connection error", metadata: ["peer": "\(remoteAddress)", "error": "\(error)"])
            closeNow()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event {
            perform(machine.idleTimerFired(at: .now()))
        } else if let verified = event as? PeerVerified {
            peer = verified.identity
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionEnded()
        context.fireChannelInactive()
    }

    /// The connection is gone: every handler still running is cancelled, and
    /// ``finished`` succeeds when the last one has returned.
    private func connectionEnded() {
        guard !inactive else { return }
        inactive = true
        closing = true
        for call in calls.values {
            call.deadlineTimer?.cancel()
            call.task.cancel()
        }
        calls.removeAll()
        graceTimer?.cancel()
        machine.closing()
        pongTimer?.cancel()
        finishIfIdle()
    }

    private func finishIfIdle() {
        if inactive, handlersRunning == 0 { finishedPromise?.succeed() }
    }

    // MARK: Calls

    private func receiveRequest(callID: UInt64, _ request: RequestFrame) {
        guard let context, let handle, callID & 1 == 1, callID > lastCallID else {
            return violate(ProtocolViolation(reason: "call id \(callID) is not odd and above the last one (\(lastCallID))"))
        }
        lastCallID = callID

        if !machine.acceptsNewCalls {
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
        guard handlersRunning < limit.enforced else {
            return answer(callID, RPCError(
                code: .resourceExhausted,
                message: "too many concurrent calls on this connection (limit \(limit.enforced))"
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
        let call = IncomingCall(
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
            connection: handle
        )
        handlersRunning += 1
        // The task starts after this returns (it is enqueued on this loop,
        // or on the global executor whose answer hops back here), so it is
        // in the table before it can complete.
        let interceptors = interceptors
        let logger = logger
        let task = Task(executorPreference: executor) {
            await call.run(interceptors: interceptors, logger: logger)
        }
        calls[callID] = ActiveCall(task: task, deadlineTimer: timer)
    }

    /// Answers a `Ping`; the opt-in one first gets the limit in `Settings`
    /// (unless the extension is switched off), and an acknowledgement lets a
    /// lowered limit take effect.
    private func receivePing(_ opaque: UInt64) {
        switch opaque {
        case ConcurrencySettings.optInOpaque where configuration.announcesConcurrencyLimit:
            if let announced = limit.optIn() { write(.settings(maximumConcurrentCalls: announced)) }
        case ConcurrencySettings.acknowledgementOpaque where limit.peerOptedIn:
            limit.acknowledge()
        default:
            break
        }
        write(.pong(opaque))
    }

    /// Changes this connection's limit; a client that opted in is told.
    func changeConcurrencyLimit(to newLimit: Int) {
        guard !closing, let announced = limit.change(to: newLimit) else { return }
        write(.settings(maximumConcurrentCalls: announced))
    }

    /// A week: longer budgets are treated as this, so the clock never overflows.
    private static let longestTimeoutMicros: UInt64 = 7 * 24 * 3600 * 1_000_000

    private func receiveCancel(callID: UInt64) {
        guard let call = calls.removeValue(forKey: callID) else { return }
        call.deadlineTimer?.cancel()
        call.task.cancel()
        closeIfDone()
    }

    private func deadlineExceeded(callID: UInt64) {
        guard let call = calls.removeValue(forKey: callID) else { return }
        // Answered and flushed before the handler learns of it: a handler
        // that then spins on this loop cannot delay the answer.
        answer(callID, RPCError(code: .deadlineExceeded, message: "deadline exceeded"))
        context?.flush()
        call.task.cancel()
        closeIfDone()
    }

    /// Sends a call's final `Response`, built by its task, unless the call
    /// already ended (cancelled or timed out). Called once per handler task.
    func complete(callID: UInt64, frame: ByteBuffer) {
        handlersRunning -= 1
        finishIfIdle()
        guard let call = calls.removeValue(forKey: callID) else { return }
        call.deadlineTimer?.cancel()
        write(frame)
        closeIfDone()
    }

    /// Sends one streamed message of a call in flight; the future completes
    /// once it is written, which paces the handler to the socket.
    func writeMessage(callID: UInt64, frame: ByteBuffer) -> EventLoopFuture<Void> {
        guard let context, !closing, calls[callID] != nil else {
            return connectionHandle.eventLoop.makeFailedFuture(RPCError(code: .cancelled, message: "call has ended"))
        }
        return context.writeAndFlush(wrapOutboundOut(frame))
    }

    private func answer(_ callID: UInt64, _ error: RPCError) {
        guard let context else { return }
        write(Self.responseFrame(callID: callID, error: error, allocator: context.channel.allocator))
    }

    // MARK: Drain and close

    /// Sends `GoAway{code: 0}`, refuses later calls, lets the ones in flight
    /// finish, and closes when they have or when `grace` is over.
    func startDraining(grace: Duration) {
        guard let context, !closing else { return }
        switch machine.startDraining(lastCallID: lastCallID, callsInFlight: calls.count, grace: grace, now: .now()) {
        case .none:
            break
        case .sendGoAwayAndClose(let last):
            write(.goAway(lastCallID: last, code: 0, message: "server is shutting down"))
            closeAfterWrites()
        case .sendGoAwayAndWait(let last, let graceDeadline):
            write(.goAway(lastCallID: last, code: 0, message: "server is shutting down"))
            graceTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: graceDeadline) { [self] in
                perform(machine.graceTimerFired(at: .now()))
            }
        }
    }

    /// After a `GoAway` either way, the last call to end closes the connection.
    private func closeIfDone() {
        perform(machine.callEnded(callsInFlight: calls.count))
    }

    private func perform(_ action: ConnectionStateMachine.CloseAction) {
        switch action {
        case .none:
            break
        case .closeWhenWritten:
            closeAfterWrites()
        case .closeNow:
            logger.info("drain grace period over; closing connection", metadata: ["calls_in_flight": "\(calls.count)"])
            closeNow()
        }
    }

    private func violate(_ violation: ProtocolViolation) {
        guard !closing, case .sendGoAwayAndClose(let reason) = machine.violation(violation) else { return }
        logger.debug("protocol violation", metadata: ["peer": "\(remoteAddress)", "reason": "\(reason)"])
        write(.goAway(lastCallID: lastCallID, code: RPCError.Code.internal.rawValue, message: reason))
        closeAfterWrites()
    }

    /// Closes once everything written so far has reached the socket.
    private func closeAfterWrites() {
        guard let context, !closing else { return }
        closing = true
        machine.closing()
        let empty = context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(wrapOutboundOut(empty)).assumeIsolated().whenComplete { [self] _ in
            closeNow()
        }
    }

    private func closeNow() {
        closing = true
        machine.closing()
        context?.close(promise: nil)
    }

    // MARK: Keepalive

    private func perform(_ action: ConnectionStateMachine.KeepaliveAction) {
        switch action {
        case .none:
            break
        case .sendPing(let opaque, let deadline):
            guard let context, !closing else { return }
            write(.ping(opaque))
            pongTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                perform(machine.pongTimerFired(at: .now()))
            }
        case .closeDeadConnection:
            logger.debug("keepalive timeout; closing connection", metadata: ["peer": "\(remoteAddress)"])
            closeNow()
        }
    }

    // MARK: Writing

    private func write(_ frame: Framerpc_V1_Frame) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 32)
        buffer.writeFrame(frame)
        write(buffer)
    }

    /// Writes now; flushes at the end of the read burst, or once at the end
    /// of this event-loop tick (``ConnectionStateMachine``), so responses
    /// finished together share one system call.
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
extension ServerConnectionHandler: Sendable {}

extension ServerConnectionHandler {
    static func responseFrame(callID: UInt64, error: RPCError, allocator: ByteBufferAllocator) -> ByteBuffer {
        var response = Framerpc_V1_Response()
        response.status = error.wireStatus
        response.trailers = error.trailers.storage
        return frame(callID: callID, response: response, allocator: allocator)
    }

    /// An OK `Response` around the payload, in the buffer it was serialized into.
    static func responseFrame(callID: UInt64, outcome: ServerOutcome) -> ByteBuffer {
        OutboundFrame.okResponse(callID: callID, payload: outcome.payload, trailers: outcome.trailers.storage)
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

    func changeConcurrencyLimit(to limit: Int) {
        eventLoop.execute { handler.value.changeConcurrencyLimit(to: limit) }
    }
}

import Hummingbird
import NIOCore
import NIOHTTPTypes

/// One per HTTP connection, just after HTTP decoding: counts the
/// connection against its address's cap (``ConnectionLimiter``) and bounds
/// the time to receive each request's body (``RequestIntake``).
///
/// Why both here: Hummingbird's idle timeout restarts on every byte, so a
/// client trickling a byte every few seconds keeps a request (and its
/// in-flight slot) open forever, and a thousand such connections make every
/// route answer 429. The body bound ends each such request; the address cap
/// stops one client from opening the thousand.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// How long a cut-off connection stays half open for its 408 to arrive.
    static let lingering: TimeAmount = .milliseconds(500)

    private let limiter: ConnectionLimiter
    private let bodyTimeout: TimeAmount
    private var intake = RequestIntake()
    private var timer: Scheduled<Void>?
    /// The address this connection is counted under, once counted.
    private var countedAddress: String?
    private var refused = false

    init(limiter: ConnectionLimiter, bodyTimeout: TimeAmount) {
        self.limiter = limiter
        self.bodyTimeout = bodyTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        perform(intake.connectionClosed(), context: context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Refused or cut off: what still arrives is dropped unread.
        guard !refused, intake.state != .closed else { return }
        switch unwrapInboundIn(data) {
        case .head: perform(intake.headReceived(), context: context)
        case .body: break
        case .end: perform(intake.endReceived(), context: context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head = unwrapOutboundIn(data) { intake.responseStarted() }
        context.write(data, promise: promise)
    }

    /// Counts the connection once; closes it if its address is at the cap.
    private func admit(context: ChannelHandlerContext) {
        guard countedAddress == nil, !refused else { return }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if limiter.open(from: address) {
            countedAddress = address
        } else {
            refused = true
            context.close(promise: nil)
        }
    }

    private func release() {
        if let address = countedAddress {
            limiter.close(from: address)
            countedAddress = nil
        }
    }

    private func perform(_ action: RequestIntake.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .startTimer:
            timer?.cancel()
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: bodyTimeout) { [self] in
                perform(intake.timerFired(), context: context)
            }
        case .cancelTimer:
            timer?.cancel()
            timer = nil
        case .cutOff(let respond):
            timer = nil
            if respond {
                let body = ByteBuffer(string: #"{"detail":"the request was not received in time","code":"DEADLINE_EXCEEDED"}"#)
                var head = HTTPResponse(status: .requestTimeout)
                head.headerFields[.connection] = "close"
                head.headerFields[.contentType] = "application/json"
                head.headerFields[.contentLength] = String(body.readableBytes)
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(body)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
            // Output first, so the 408 arrives before the end of the stream
            // (a full close with unread input would reset the connection and
            // could discard it); the rest shortly after, whatever the
            // client does.
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingering) {
                context.close(promise: nil)
            }
        }
    }
}

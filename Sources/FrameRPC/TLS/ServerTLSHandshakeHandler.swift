import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Sits right after the server's `NIOSSLServerHandler` until the handshake
/// is over.
///
/// A handshake that fails (no client certificate, one the trust roots do
/// not verify, an expired one, a peer speaking plaintext) is counted through
/// the ``ConnectionObserver``, logged at debug (a stranger knocking is not
/// the server's error, and one log line per attempt would let anyone flood
/// the logs), and the connection is closed: nothing the peer sent reaches
/// the frame decoder. A handshake that does not finish within `timeout` is
/// treated the same. Once it succeeds, the verified leaf's identity goes
/// down the pipeline as a ``PeerVerified`` event (the connection handler
/// puts it into every call's ``ServerContext``) and this handler removes
/// itself.
final class ServerTLSHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let observer: (any ConnectionObserver)?
    private let logger: Logger
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var failed = false

    init(observer: (any ConnectionObserver)?, logger: Logger, timeout: TimeAmount = .seconds(10)) {
        self.observer = observer
        self.logger = logger
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            fail(context: context, reason: "handshake not finished within \(timeout)")
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // NIOSSL delivers application data only after the handshake, and
        // the handshake event comes first; forward anything anyway.
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case TLSUserEvent.handshakeCompleted = event else {
            return context.fireUserInboundEventTriggered(event)
        }
        timer?.cancel()
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
        context.fireUserInboundEventTriggered(event)
        context.fireUserInboundEventTriggered(PeerVerified(identity: certificate.flatMap(PeerCertificate.identity(of:))))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, reason: "\(error)")
    }

    /// A peer that leaves before its handshake completes (plaintext that
    /// the TLS handler could not even call an error, a port scan) counts as
    /// a failed handshake too.
    func channelInactive(context: ChannelHandlerContext) {
        fail(context: context, reason: "the peer closed the connection before the handshake completed")
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, reason: String) {
        guard !failed else { return }
        failed = true
        timer?.cancel()
        observer?.tlsHandshakeFailed()
        logger.debug("TLS handshake failed", metadata: [
            "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")",
            "reason": "\(reason)",
        ])
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ServerTLSHandshakeHandler: Sendable {}

/// Fired down a server connection's pipeline once the TLS handshake has
/// verified the client's certificate chain: the identity it names (`nil`
/// when the certificate has no URI SAN).
struct PeerVerified: Sendable {
    let identity: PeerIdentity?
}

import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// The client side's TLS checks beyond the chain: that the server is the
/// service the client meant to call, and a log line saying why a
/// handshake failed.
///
/// The identity check runs inside the handshake (``identityCheck(expected:)``,
/// after BoringSSL has verified the chain against the trust roots): on a
/// mismatch the handshake fails and the calls the client already wrote,
/// which NIOSSL holds back until the handshake is over, are never sent. So
/// a server with a certificate for another service, or from another CA,
/// never sees a request; the calls fail UNAVAILABLE when the connection
/// closes, and connecting does not wait for the handshake, so each call's
/// deadline still applies while it is under way.
final class ClientTLSHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// For NIOSSL's post-verification hook: accepts the verified leaf only
    /// if one of its URI SANs is `expected`.
    ///
    /// NIOSSL marks that hook (`_makeSSLClientHandler`) as not yet stable;
    /// it is the one that runs after, not instead of, chain verification.
    static func identityCheck(expected: String) -> _NIOAdditionalPeerCertificateVerificationCallback {
        { certificate, channel in
            let uris = PeerCertificate.uris(of: certificate)
            guard uris.contains(expected) else {
                let named = uris.isEmpty ? "no URI identity" : uris.joined(separator: ", ")
                return channel.eventLoop.makeFailedFuture(TLSHandshakeError("the server's certificate names \(named), not \(expected)"))
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if case TLSUserEvent.handshakeCompleted = event {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A warning: on the client side this is a misconfiguration (a
        // wrong CA, an expired certificate of ours) or an impostor.
        logger.warning("TLS handshake failed", metadata: [
            "server": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")",
            "reason": "\(error)",
        ])
        context.fireErrorCaught(error)
    }
}

@available(*, unavailable)
extension ClientTLSHandshakeHandler: Sendable {}

/// Why a client's TLS handshake did not give a usable connection.
struct TLSHandshakeError: Error, CustomStringConvertible, Sendable {
    let description: String
    init(_ description: String) { self.description = description }
}

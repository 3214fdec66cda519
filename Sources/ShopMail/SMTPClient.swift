import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends one message per call to an SMTP server over SwiftNIO: connects,
/// runs an ``SMTPDialogue`` to the end and closes.
///
/// Every step has a time limit: connecting (``Configuration/connectTimeout``)
/// and each reply, the TLS handshake included (``Configuration/replyTimeout``);
/// a server that stops answering closes the connection and fails the send
/// with ``SMTPError/timedOut(stage:)``. No connection is kept between
/// messages: notifications are few, and a fresh session never inherits a
/// half-broken one.
public struct SMTPClient: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var security: SMTPDialogue.Security
        public var credentials: SMTPDialogue.Credentials?
        /// Trust for the server's certificate: the system's roots unless
        /// told (a private relay's CA, the tests' CA).
        public var tls: TLSConfiguration
        /// The name given in EHLO.
        public var clientName: String
        public var connectTimeout: TimeAmount
        public var replyTimeout: TimeAmount

        public init(
            host: String, port: Int, security: SMTPDialogue.Security, credentials: SMTPDialogue.Credentials? = nil,
            tls: TLSConfiguration = .makeClientConfiguration(), clientName: String = "localhost",
            connectTimeout: TimeAmount = .seconds(10), replyTimeout: TimeAmount = .seconds(30)
        ) {
            self.host = host
            self.port = port
            self.security = security
            self.credentials = credentials
            self.tls = tls
            self.clientName = clientName
            self.connectTimeout = connectTimeout
            self.replyTimeout = replyTimeout
        }
    }

    public let configuration: Configuration
    private let group: any EventLoopGroup
    private let sslContext: NIOSSLContext?

    /// - Throws: when the TLS configuration cannot be loaded.
    public init(configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.configuration = configuration
        self.group = group
        sslContext = configuration.security == .none ? nil : try NIOSSLContext(configuration: configuration.tls)
    }

    /// Sends `message` from `sender` to `recipients`; returns the server's
    /// reply to it (its receipt, usually naming its queue id).
    public func send(_ message: [UInt8], from sender: String, to recipients: [String]) async throws(SMTPError) -> String {
        var dialogue = try SMTPDialogue(
            clientName: configuration.clientName, security: configuration.security, credentials: configuration.credentials,
            sender: sender, recipients: recipients, message: message
        )
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: SMTPReply.self, throwing: (any Error).self)
        let channel = try await connect(replies: continuation)
        defer { channel.close(promise: nil) }
        var replies = stream.makeAsyncIterator()
        while true {
            var action: SMTPDialogue.Action
            switch await nextReply(&replies, channel: channel, stage: dialogue.stage, continuation: continuation) {
            case .success(let reply?): action = dialogue.received(reply)
            case .success(nil): action = dialogue.connectionClosed()
            case .failure(let error): action = .fail(error)
            }
            if action == .startTLS {
                do {
                    try await startTLS(on: channel)
                } catch {
                    throw .connection(stage: .startTLS, detail: "TLS: \(error)")
                }
                action = dialogue.tlsEstablished()
            }
            switch action {
            case .send(let line):
                try await write(ByteBuffer(string: line + "\r\n"), to: channel, stage: dialogue.stage)
            case .sendMessage(let bytes):
                try await write(ByteBuffer(bytes: bytes), to: channel, stage: .message)
            case .finished(let receipt):
                return receipt
            case .fail(let error):
                if channel.isActive { channel.writeAndFlush(ByteBuffer(string: "QUIT\r\n"), promise: nil) }
                throw error
            case .startTLS:
                throw .malformedReply(stage: .startTLS, detail: "STARTTLS asked for twice")
            }
        }
    }

    private func connect(replies: AsyncThrowingStream<SMTPReply, any Error>.Continuation) async throws(SMTPError) -> any Channel {
        let implicitTLS = configuration.security == .implicitTLS ? sslContext : nil
        let hostname = Self.serverHostname(configuration.host)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: implicitTLS, serverHostname: hostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(replies: replies))
                }
            }
        do {
            return try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw .connection(stage: .connect, detail: "cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// The next reply, `nil` when the connection closed, or the error that
    /// ended it. A reply that takes longer than the limit closes the
    /// connection.
    private func nextReply(
        _ replies: inout AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator,
        channel: any Channel, stage: SMTPDialogue.Stage,
        continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation
    ) async -> Result<SMTPReply?, SMTPError> {
        let timer = channel.eventLoop.scheduleTask(in: configuration.replyTimeout) {
            continuation.finish(throwing: ReplyTimeout())
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            return .success(try await replies.next())
        } catch is ReplyTimeout {
            return .failure(.timedOut(stage: stage))
        } catch let error as SMTPReplyParser.ParseError {
            return .failure(.malformedReply(stage: stage, detail: error.description))
        } catch {
            return .failure(.connection(stage: stage, detail: "\(error)"))
        }
    }

    private struct ReplyTimeout: Error {}

    private func write(_ buffer: ByteBuffer, to channel: any Channel, stage: SMTPDialogue.Stage) async throws(SMTPError) {
        do {
            try await channel.writeAndFlush(buffer)
        } catch {
            throw .connection(stage: stage, detail: "write failed: \(error)")
        }
    }

    /// Puts TLS under the reply handler; the handshake runs before the
    /// next write goes out, and the next reply's time limit covers it.
    private func startTLS(on channel: any Channel) async throws {
        guard let sslContext else { throw SMTPError.startTLSUnavailable }
        let hostname = Self.serverHostname(configuration.host)
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: hostname), position: .first)
        }.get()
    }

    /// The name for SNI and certificate checks; an IP address is not one.
    static func serverHostname(_ host: String) -> String? {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 { return nil }
        return host
    }
}

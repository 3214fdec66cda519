import NIOCore

/// The channel handler under ``SMTPClient``: feeds received bytes to an
/// ``SMTPReplyParser`` and passes each complete reply on; a malformed
/// reply, an error or the end of the connection ends the stream.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var parser = SMTPReplyParser()
    private let replies: AsyncThrowingStream<SMTPReply, any Error>.Continuation

    init(replies: AsyncThrowingStream<SMTPReply, any Error>.Continuation) {
        self.replies = replies
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            for reply in try parser.feed(buffer.readableBytesView) {
                replies.yield(reply)
            }
        } catch {
            replies.finish(throwing: error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        replies.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        replies.finish(throwing: error)
        context.close(promise: nil)
    }
}

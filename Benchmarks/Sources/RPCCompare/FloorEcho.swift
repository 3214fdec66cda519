import NIOCore
import NIOPosix

// The floor: the least a length-prefixed request/response protocol over
// SwiftNIO can cost. Frames are `length: UInt32 big-endian | body`, as in
// FrameRPC, but the body is the bare payload: no protobuf, no call table, no
// tasks. The server echoes each frame on its event loop; the client keeps
// its calls in flight on each connection from that connection's event loop.
// (The same floor as framerpc-bench's, written again here because that one
// lives in an executable target a package cannot import.)

/// Splits a byte stream into whole frames, each emitted with its length
/// prefix (so the echo can write it straight back).
struct LengthPrefixedFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    static let maximumFrameSize = 4 * 1024 * 1024

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length > 0, length <= Self.maximumFrameSize else {
            throw BenchError("floor: bad frame length \(length)")
        }
        guard let frame = buffer.readSlice(length: 4 + Int(length)) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// Writes every frame back; one flush per read burst.
final class FloorEchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension FloorEchoHandler: Sendable {}

enum FloorServer {
    /// Binds `host:port` and returns the listening channel.
    static func bind(host: String, port: Int) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder()))
                    try pipeline.addHandler(FloorEchoHandler())
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}

/// Keeps `concurrency` requests outstanding on one connection: writes them
/// all when it opens, then one new request per echo, until the window ends.
/// Echoes come back in order, so each one's send time is the oldest in a
/// ring of send times.
final class FloorLoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: ByteBuffer
    private let concurrency: Int
    private let window: TimedWindow
    private let promise: EventLoopPromise<LoadSample>

    private var sendTimes: [UInt64]
    private var head = 0
    private var inFlight = 0
    private var sample = LoadSample()
    private var done = false

    init(request: ByteBuffer, concurrency: Int, window: TimedWindow, promise: EventLoopPromise<LoadSample>) {
        self.request = request
        self.concurrency = concurrency
        self.window = window
        self.promise = promise
        self.sendTimes = Array(repeating: 0, count: concurrency)
        sample.latencies.reserveCapacity(1 << 18)
    }

    func channelActive(context: ChannelHandlerContext) {
        for _ in 0..<concurrency { send(context: context) }
        context.flush()
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        sendTimes[(head + inFlight) % concurrency] = nowNanos()
        inFlight += 1
        context.write(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let now = nowNanos()
        guard inFlight > 0 else {
            sample.errors += 1
            return
        }
        let sent = sendTimes[head]
        head = (head + 1) % concurrency
        inFlight -= 1
        if frame.readableBytes != request.readableBytes {
            sample.errors += 1
            sample.lastError = "echo of \(frame.readableBytes) bytes, expected \(request.readableBytes)"
        } else if window.contains(now) {
            sample.latencies.append(Int64(now - sent))
        }
        if now < window.end {
            send(context: context)
        } else if inFlight == 0 {
            finish(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    private func finish(context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        promise.succeed(sample)
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(BenchError("floor: connection closed with \(inFlight) requests in flight"))
        }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension FloorLoadHandler: Sendable {}

enum FloorClient {
    /// Runs the load over `connections` connections until the window ends.
    static func run(host: String, port: Int, payload: [UInt8], concurrency: Int, connections: Int, window: TimedWindow) async throws -> LoadSample {
        var request = ByteBufferAllocator().buffer(capacity: 4 + payload.count)
        request.writeInteger(UInt32(payload.count))
        request.writeBytes(payload)
        let frame = request
        return try await withThrowingTaskGroup(of: LoadSample.self) { group in
            for inFlight in spread(concurrency: concurrency, over: connections) {
                group.addTask {
                    try await runConnection(host: host, port: port, request: frame, concurrency: inFlight, window: window)
                }
            }
            var total = LoadSample()
            for try await sample in group { total.merge(sample) }
            return total
        }
    }

    private static func runConnection(host: String, port: Int, request: ByteBuffer, concurrency: Int, window: TimedWindow) async throws -> LoadSample {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: LoadSample.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder()))
                        try pipeline.addHandler(FloorLoadHandler(request: request, concurrency: concurrency, window: window, promise: promise))
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch {
            promise.fail(error)
            throw error
        }
        do {
            let sample = try await promise.futureResult.get()
            try? await channel.closeFuture.get()
            return sample
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

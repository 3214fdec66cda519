import FrameRPC
import NIOCore
import NIOPosix
import SwiftProtobuf

// Diagnostic "half" systems (not run by default): one side is FrameRPC's
// real code, the other a minimal event-loop implementation of the FrameRPC
// wire protocol with the same shape as the raw floor (frames built and
// parsed by hand, no tasks). Comparing them with the full system shows how
// much of the cost and latency sits in `RPCServer` and how much in
// `RPCClient`.
//
// - `rpc-server`: `RPCServer` + a pipelined event-loop FrameRPC client.
// - `rpc-client`: `RPCClient` + an event-loop FrameRPC echo server.

// MARK: Hand-rolled wire helpers

enum Wire {
    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    static func writeVarint(_ value: UInt64, to buffer: inout ByteBuffer) {
        var value = value
        while value >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.writeInteger(UInt8(value))
    }

    static func readVarint(from buffer: inout ByteBuffer) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while shift < 64, let byte = buffer.readInteger(as: UInt8.self) {
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    /// Skips one field's value of the given wire type; false if malformed.
    static func skip(wireType: UInt64, in buffer: inout ByteBuffer) -> Bool {
        switch wireType {
        case 0: return readVarint(from: &buffer) != nil
        case 1: return buffer.readSlice(length: 8) != nil
        case 2:
            guard let length = readVarint(from: &buffer) else { return false }
            return buffer.readSlice(length: Int(length)) != nil
        case 5: return buffer.readSlice(length: 4) != nil
        default: return false
        }
    }

    /// Writes `length | Frame{call_id, <tag>: body}`.
    static func writeFrame(callID: UInt64, tag: UInt8, body: ByteBuffer, to buffer: inout ByteBuffer) {
        let length = 1 + varintSize(callID) + 1 + varintSize(UInt64(body.readableBytes)) + body.readableBytes
        buffer.writeInteger(UInt32(length))
        buffer.writeInteger(UInt8(0x08))
        writeVarint(callID, to: &buffer)
        buffer.writeInteger(tag)
        writeVarint(UInt64(body.readableBytes), to: &buffer)
        buffer.writeImmutableBuffer(body)
    }

    /// The call id and kind body of a frame (length prefix included in `frame`).
    static func parseFrame(_ frame: ByteBuffer) -> (callID: UInt64, tag: UInt8, body: ByteBuffer)? {
        var frame = frame
        frame.moveReaderIndex(forwardBy: 4)
        var callID: UInt64 = 0
        while frame.readableBytes > 0 {
            guard let key = readVarint(from: &frame) else { return nil }
            if key == 0x08 {
                guard let id = readVarint(from: &frame) else { return nil }
                callID = id
            } else if key & 7 == 2, key >> 3 >= 2, key >> 3 <= 9 {
                guard let length = readVarint(from: &frame), let body = frame.readSlice(length: Int(length)) else { return nil }
                return (callID, UInt8(key), body)
            } else if !skip(wireType: key & 7, in: &frame) {
                return nil
            }
        }
        return nil
    }
}

// MARK: Event-loop FrameRPC client, for `rpc-server`

/// Like ``RawLoadHandler``, but speaking FrameRPC: `concurrency` unary Echo
/// calls in flight, each answered one replaced at once. Responses may come
/// in any order, so send times are kept by call id.
final class FrameRPCLoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let requestBody: ByteBuffer
    private let expectedResponsePayload: Int
    private let concurrency: Int
    private let window: TimedWindow
    private let promise: EventLoopPromise<LoadSample>

    private var nextCallID: UInt64 = 1
    private var sendTimes: [UInt64: UInt64] = [:]
    private var latencies: [Int64] = []
    private var errors = 0
    private var done = false

    init(payload: [UInt8], concurrency: Int, window: TimedWindow, promise: EventLoopPromise<LoadSample>) {
        var request = Framerpc_V1_Request()
        request.method = EchoService.echoMethod
        request.payload = try! Google_Protobuf_BytesValue.with { $0.value = .init(payload) }.serializedData()
        self.expectedResponsePayload = request.payload.count
        self.requestBody = ByteBuffer(bytes: try! request.serializedBytes() as [UInt8])
        self.concurrency = concurrency
        self.window = window
        self.promise = promise
        sendTimes.reserveCapacity(concurrency * 2)
        latencies.reserveCapacity(1 << 20)
    }

    func channelActive(context: ChannelHandlerContext) {
        for _ in 0..<concurrency { send(context: context) }
        context.flush()
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        let callID = nextCallID
        nextCallID += 2
        var buffer = context.channel.allocator.buffer(capacity: requestBody.readableBytes + 24)
        Wire.writeFrame(callID: callID, tag: 0x12, body: requestBody, to: &buffer)
        sendTimes[callID] = nowNanos()
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = nowNanos()
        guard let (callID, tag, body) = Wire.parseFrame(unwrapInboundIn(data)), tag == 0x2A,
              let sent = sendTimes.removeValue(forKey: callID)
        else {
            // Pings and anything unexpected: a keepalive never fires in a run this short.
            errors += 1
            return
        }
        if responseIsOK(body) {
            if window.contains(now) { latencies.append(Int64(now - sent)) }
        } else {
            errors += 1
        }
        if now < window.end {
            send(context: context)
        } else if sendTimes.isEmpty {
            finish(context: context)
        }
    }

    /// Status absent or code 0, and a payload of the expected size.
    private func responseIsOK(_ body: ByteBuffer) -> Bool {
        var body = body
        var payloadSize = 0
        while body.readableBytes > 0 {
            guard let key = Wire.readVarint(from: &body) else { return false }
            switch key {
            case 0x0A:  // status
                guard let length = Wire.readVarint(from: &body), var status = body.readSlice(length: Int(length)) else { return false }
                if status.readableBytes > 0, status.getInteger(at: status.readerIndex, as: UInt8.self) == 0x08 {
                    status.moveReaderIndex(forwardBy: 1)
                    if Wire.readVarint(from: &status) != 0 { return false }
                }
            case 0x12:  // payload
                guard let length = Wire.readVarint(from: &body), body.readSlice(length: Int(length)) != nil else { return false }
                payloadSize = Int(length)
            default:
                if !Wire.skip(wireType: key & 7, in: &body) { return false }
            }
        }
        return payloadSize == expectedResponsePayload
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    private func finish(context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        promise.succeed(LoadSample(latencies: latencies, errors: errors))
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
            promise.fail(BenchError("FrameRPC event-loop client: connection closed with \(sendTimes.count) calls in flight"))
        }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension FrameRPCLoadHandler: Sendable {}

// MARK: Event-loop FrameRPC echo server, for `rpc-client`

/// Answers every `Request` at once on the event loop with
/// `Response{status: {}, payload: <request payload>}`, i.e. what FrameRPC's
/// server sends for the Echo method. Other frames are ignored.
final class FrameRPCEchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let (callID, tag, request) = Wire.parseFrame(unwrapInboundIn(data)), tag == 0x12 else { return }
        var fields = request
        var payload = ByteBuffer()
        while fields.readableBytes > 0 {
            guard let key = Wire.readVarint(from: &fields) else { return context.close(promise: nil) }
            if key == 0x22 {  // Request.payload
                guard let length = Wire.readVarint(from: &fields), let slice = fields.readSlice(length: Int(length)) else {
                    return context.close(promise: nil)
                }
                payload = slice
            } else if !Wire.skip(wireType: key & 7, in: &fields) {
                return context.close(promise: nil)
            }
        }
        var response = context.channel.allocator.buffer(capacity: payload.readableBytes + 8)
        response.writeBytes([0x0A, 0x00])  // status {} (code 0)
        if payload.readableBytes > 0 {
            response.writeInteger(UInt8(0x12))
            Wire.writeVarint(UInt64(payload.readableBytes), to: &response)
            response.writeImmutableBuffer(payload)
        }
        var frame = context.channel.allocator.buffer(capacity: response.readableBytes + 24)
        Wire.writeFrame(callID: callID, tag: 0x2A, body: response, to: &frame)
        context.write(wrapOutboundOut(frame), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension FrameRPCEchoHandler: Sendable {}

enum EventLoopFrameRPCServer {
    static func bind(host: String, port: Int) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder()))
                    try pipeline.addHandler(FrameRPCEchoHandler())
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}

enum EventLoopFrameRPCClient {
    static func run(host: String, port: Int, payload: [UInt8], concurrency: Int, window: TimedWindow) async throws -> LoadSample {
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
                        try pipeline.addHandler(FrameRPCLoadHandler(
                            payload: payload, concurrency: concurrency, window: window, promise: promise
                        ))
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

import FrameRPC
import Foundation
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization

// A fixed number of calls instead of a timed window, for instruction counts
// under `valgrind --tool=callgrind` (bench/callgrind.sh): the same calls
// every run, whatever the machine's load, so two runs with different counts
// give the instructions of one call by their difference.

/// Calls left to make, shared by the tasks of one run.
final class CallBudget: Sendable {
    private let remaining: Atomic<Int>

    init(_ calls: Int) { remaining = Atomic(calls) }

    /// Takes one call from the budget; `false` once it is spent.
    func take() -> Bool {
        remaining.subtract(1, ordering: .relaxed).newValue >= 0
    }
}

/// What a fixed-count run did.
struct FixedCallResult: Sendable {
    var completed = 0
    var errors = 0
}

enum FixedCalls {
    static func run(kind: SystemKind, host: String, port: Int, payload: [UInt8], concurrency: Int, calls: Int, tls: RPCTLSConfiguration?) async throws -> FixedCallResult {
        switch kind {
        case .raw:
            return try await raw(host: host, port: port, payload: payload, concurrency: concurrency, calls: calls)
        case .framerpc, .framerpcTLS, .rpcClient, .framerpcLoop:
            return try await frameRPC(host: host, port: port, payload: payload, concurrency: concurrency, calls: calls, tls: kind == .framerpcTLS ? tls : nil, onEventLoop: kind == .framerpcLoop)
        case .rpcServer:
            throw BenchError("--calls supports raw, framerpc, framerpc-mtls and rpc-client")
        }
    }

    private static func frameRPC(host: String, port: Int, payload: [UInt8], concurrency: Int, calls: Int, tls: RPCTLSConfiguration?, onEventLoop: Bool) async throws -> FixedCallResult {
        let client = FrameRPCEchoClient.makeClient(host: host, port: port, tls: tls, onEventLoop: onEventLoop)
        defer { client.shutdown() }
        let request = Google_Protobuf_BytesValue.with { $0.value = Data(payload) }
        let budget = CallBudget(calls)
        return await withTaskGroup(of: FixedCallResult.self) { group in
            for _ in 0..<concurrency {
                group.addTask(executorPreference: client.callerExecutor) {
                    var result = FixedCallResult()
                    while budget.take() {
                        do {
                            let response = try await client.unary(method: EchoService.echoMethod, request: request, response: Google_Protobuf_BytesValue.self)
                            if response.value.count == payload.count { result.completed += 1 } else { result.errors += 1 }
                        } catch {
                            result.errors += 1
                        }
                    }
                    return result
                }
            }
            var total = FixedCallResult()
            for await part in group {
                total.completed += part.completed
                total.errors += part.errors
            }
            return total
        }
    }

    private static func raw(host: String, port: Int, payload: [UInt8], concurrency: Int, calls: Int) async throws -> FixedCallResult {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: FixedCallResult.self)
        var request = ByteBufferAllocator().buffer(capacity: 4 + payload.count)
        request.writeInteger(UInt32(payload.count))
        request.writeBytes(payload)
        let frame = request
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder()))
                    try pipeline.addHandler(CountedRawLoadHandler(request: frame, concurrency: concurrency, calls: calls, promise: promise))
                }
            }
            .connect(host: host, port: port)
            .get()
        do {
            let result = try await promise.futureResult.get()
            try? await channel.closeFuture.get()
            return result
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }
}

/// The floor's load with a call count: keeps `concurrency` requests in
/// flight until `calls` were sent, and finishes when the last echo is back.
final class CountedRawLoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: ByteBuffer
    private let concurrency: Int
    private let calls: Int
    private let promise: EventLoopPromise<FixedCallResult>
    private var sent = 0
    private var inFlight = 0
    private var result = FixedCallResult()
    private var done = false

    init(request: ByteBuffer, concurrency: Int, calls: Int, promise: EventLoopPromise<FixedCallResult>) {
        self.request = request
        self.concurrency = concurrency
        self.calls = calls
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        while inFlight < concurrency, sent < calls { send(context: context) }
        context.flush()
        if calls == 0 { finish(context: context) }
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        sent += 1
        inFlight += 1
        context.write(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        inFlight -= 1
        if frame.readableBytes == request.readableBytes { result.completed += 1 } else { result.errors += 1 }
        if sent < calls {
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
        promise.succeed(result)
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
            promise.fail(BenchError("raw echo: connection closed with \(inFlight) requests in flight"))
        }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension CountedRawLoadHandler: Sendable {}

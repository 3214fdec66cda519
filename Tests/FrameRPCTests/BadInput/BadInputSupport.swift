import Foundation
import FrameRPC
import NIOCore
import NIOPosix
import SwiftProtobuf
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bad-input suite: a real `RPCServer` on 127.0.0.1, real TCP sockets,
/// and the reactions PROTOCOL.md section 6 prescribes.
///
/// Serialized (recursively, so the nested suites in the other files too): the
/// memory test reads the resident size of this process, which other tests of
/// this suite running alongside would disturb.
@Suite(.serialized)
struct BadInput {}

extension BadInput {
    // MARK: - The server under test

    typealias StringValue = Google_Protobuf_StringValue

    /// The methods the tests call.
    enum TestMethod {
        /// Answers `"echo: <value>"`.
        static let say = "/test.v1.Echo/Say"
        /// Throws an error that is not an RPC status.
        static let fail = "/test.v1.Echo/Fail"
        /// Waits on the service's ``Gate``, then answers `"released: <value>"`.
        static let block = "/test.v1.Echo/Block"
        /// Answers the `BytesValue` it was sent.
        static let echoBytes = "/test.v1.Echo/Bytes"
    }

    /// A plain Swift error with details the caller must never see.
    struct HiddenInternalError: Error, CustomStringConvertible {
        var description: String { "secret-detail: database password is hunter2" }
    }

    struct TestService: RPCService {
        let gate: Gate

        init(gate: Gate = Gate()) {
            self.gate = gate
        }

        func registerMethods(with router: inout RPCRouter) {
            router.registerUnary(TestMethod.say) { (request: StringValue, _) in
                StringValue("echo: \(request.value)")
            }
            router.registerUnary(TestMethod.fail) { (_: StringValue, _) -> StringValue in
                throw HiddenInternalError()
            }
            router.registerUnary(TestMethod.echoBytes) { (request: Google_Protobuf_BytesValue, _) in
                request
            }
            let gate = gate
            router.registerUnary(TestMethod.block) { (request: StringValue, _) in
                await gate.wait()
                return StringValue("released: \(request.value)")
            }
        }
    }

    /// Holds handlers until opened. Waiting honours task cancellation, so a
    /// failed test never leaves a handler (and so the server) hanging.
    final class Gate: Sendable {
        private struct State {
            var isOpen = false
            var arrivals = 0
            var nextID = 0
            var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
            var cancelled: Set<Int> = []
        }

        private let state = Mutex(State())

        init() {}

        /// How many handlers have reached the gate so far.
        var arrivals: Int { state.withLock { $0.arrivals } }

        func wait() async {
            let id = state.withLock { state -> Int in
                state.arrivals += 1
                state.nextID += 1
                return state.nextID
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.isOpen || state.cancelled.contains(id) { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                    state.cancelled.insert(id)
                    return nil
                }
                waiter?.resume()
            }
        }

        func open() {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.isOpen = true
                defer { state.waiters.removeAll() }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume() }
        }

        /// Waits (polling briefly) until `count` handlers reached the gate.
        func waitForArrivals(_ count: Int, timeout: Duration = .seconds(3)) async -> Bool {
            let end = ContinuousClock.now + timeout
            while arrivals < count {
                if ContinuousClock.now >= end { return false }
                try? await Task.sleep(for: .milliseconds(2))
            }
            return true
        }
    }

    /// Runs `body` with a fresh server on 127.0.0.1 and an ephemeral port, then
    /// cancels the server (which closes every connection).
    static func withServer<T>(
        maximumFrameSize: Int = 4 * 1024 * 1024,
        maximumConcurrentCallsPerConnection: Int = 256,
        service: TestService = TestService(),
        _ body: (_ server: RPCServer, _ port: Int) async throws -> T
    ) async throws -> T {
        let server = RPCServer(
            configuration: .init(
                host: "127.0.0.1",
                port: 0,
                maximumFrameSize: maximumFrameSize,
                maximumConcurrentCallsPerConnection: maximumConcurrentCallsPerConnection
            ),
            services: [service]
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            do {
                let port = try await server.port
                let result = try await body(server, port)
                service.gate.open()
                group.cancelAll()
                return result
            } catch {
                service.gate.open()
                group.cancelAll()
                throw error
            }
        }
    }

    /// A well-behaved `RPCClient` on its own connection gets a correct answer.
    static func expectServerHealthy(port: Int, sourceLocation: SourceLocation = #_sourceLocation) async {
        let client = RPCClient(host: "127.0.0.1", port: port)
        defer { client.shutdown() }
        do {
            let reply = try await client.unary(
                method: TestMethod.say,
                request: StringValue("still alive"),
                response: StringValue.self,
                options: CallOptions(timeout: .seconds(3))
            )
            #expect(reply.value == "echo: still alive", sourceLocation: sourceLocation)
        } catch {
            Issue.record("a well-behaved client failed after the bad input: \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: - Building wire bytes

    enum Wire {
        /// The 4-byte big-endian length header.
        static func lengthHeader(_ length: UInt32) -> [UInt8] {
            withUnsafeBytes(of: length.bigEndian) { Array($0) }
        }

        /// `body` with its length header.
        static func prefixed(_ body: [UInt8]) -> [UInt8] {
            lengthHeader(UInt32(body.count)) + body
        }

        static func body(_ frame: Framerpc_V1_Frame) -> [UInt8] {
            try! frame.serializedBytes()
        }

        /// A whole frame, length header first.
        static func frame(_ frame: Framerpc_V1_Frame) -> [UInt8] {
            prefixed(body(frame))
        }

        static func requestFrame(
            callID: UInt64,
            method: String,
            payload: Data,
            metadata: [String: String] = [:]
        ) -> Framerpc_V1_Frame {
            var frame = Framerpc_V1_Frame()
            frame.callID = callID
            frame.request = .with {
                $0.method = method
                $0.payload = payload
                $0.metadata = metadata
            }
            return frame
        }

        static func request(callID: UInt64, method: String, payload: Data, metadata: [String: String] = [:]) -> [UInt8] {
            frame(requestFrame(callID: callID, method: method, payload: payload, metadata: metadata))
        }

        /// A unary request carrying a serialized `StringValue`.
        static func call(
            _ method: String,
            callID: UInt64,
            _ text: String,
            metadata: [String: String] = [:]
        ) -> [UInt8] {
            request(callID: callID, method: method, payload: try! StringValue(text).serializedData(), metadata: metadata)
        }

        static func say(callID: UInt64, _ text: String, metadata: [String: String] = [:]) -> [UInt8] {
            call(TestMethod.say, callID: callID, text, metadata: metadata)
        }

        static let http: [UInt8] = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
    }

    /// Bytes to throw at the server, named for the test report.
    struct BadBytes: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        var testDescription: String { name }
    }

    // MARK: - A raw client socket

    /// What a raw connection has received so far.
    struct RawSnapshot: Sendable {
        /// The frames the server sent, in order.
        var frames: [Framerpc_V1_Frame]
        /// The server closed the connection (or it was reset).
        var closed: Bool
        /// The wait ended because its timeout passed.
        var timedOut: Bool
        /// The server sent bytes that are not a length-prefixed `Frame`.
        var receivedNonFrameBytes: Bool
        /// Bytes of an incomplete frame at the end.
        var trailingBytes: Int
        /// Errors the socket reported (for example a connection reset).
        var errors: [String]

        var goAways: [Framerpc_V1_GoAway] {
            frames.compactMap { if case .goAway(let goAway) = $0.kind { goAway } else { nil } }
        }

        func response(for callID: UInt64) -> Framerpc_V1_Response? {
            for frame in frames where frame.callID == callID {
                if case .response(let response) = frame.kind { return response }
            }
            return nil
        }

        func hasResponse(for callID: UInt64) -> Bool { response(for: callID) != nil }

        var responseCount: Int {
            frames.count(where: { if case .response = $0.kind { true } else { false } })
        }
    }

    /// Collects what the server sends and decodes it as length-prefixed frames.
    /// Confined to its channel's event loop.
    final class FrameCollector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer

        private struct Waiter {
            let predicate: @Sendable (RawSnapshot) -> Bool
            let promise: EventLoopPromise<RawSnapshot>
            let timer: Scheduled<Void>
        }

        private var buffer = ByteBuffer()
        private var frames: [Framerpc_V1_Frame] = []
        private var closed = false
        private var nonFrame = false
        private var errors: [String] = []
        private var waiters: [Int: Waiter] = [:]
        private var nextWaiterID = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            buffer.writeBuffer(&incoming)
            parse()
            notify()
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed = true
            notify()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            errors.append("\(error)")
            context.close(promise: nil)
        }

        private func parse() {
            while !nonFrame,
                  let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
                  buffer.readableBytes >= 4 + Int(length) {
                buffer.moveReaderIndex(forwardBy: 4)
                let body = buffer.readBytes(length: Int(length))!
                if length == 0 {
                    nonFrame = true
                } else if let frame = try? Framerpc_V1_Frame(serializedBytes: body) {
                    frames.append(frame)
                } else {
                    nonFrame = true
                }
            }
            buffer.discardReadBytes()
        }

        private func snapshot(timedOut: Bool) -> RawSnapshot {
            RawSnapshot(
                frames: frames,
                closed: closed,
                timedOut: timedOut,
                receivedNonFrameBytes: nonFrame,
                trailingBytes: buffer.readableBytes,
                errors: errors
            )
        }

        private func notify() {
            let current = snapshot(timedOut: false)
            for (id, waiter) in waiters where closed || waiter.predicate(current) {
                waiters.removeValue(forKey: id)
                waiter.timer.cancel()
                waiter.promise.succeed(current)
            }
        }

        /// Completes once `predicate` holds, the connection closed (nothing will
        /// change any more), or `timeout` passed. Call on the event loop.
        func wait(
            on loop: any EventLoop,
            timeout: TimeAmount,
            until predicate: @escaping @Sendable (RawSnapshot) -> Bool
        ) -> EventLoopFuture<RawSnapshot> {
            let current = snapshot(timedOut: false)
            if closed || predicate(current) { return loop.makeSucceededFuture(current) }
            let id = nextWaiterID
            nextWaiterID += 1
            let promise = loop.makePromise(of: RawSnapshot.self)
            let timer = loop.scheduleTask(in: timeout) { [self] in
                guard let waiter = waiters.removeValue(forKey: id) else { return }
                waiter.promise.succeed(snapshot(timedOut: true))
            }
            waiters[id] = Waiter(predicate: predicate, promise: promise, timer: timer)
            return promise.futureResult
        }
    }

    /// A TCP connection to the server that writes whatever bytes it is given.
    final class RawConnection: Sendable {
        let channel: any Channel
        private let collector: FrameCollector

        private init(channel: any Channel, collector: FrameCollector) {
            self.channel = channel
            self.collector = collector
        }

        /// With `autoRead: false` nothing is read from the socket (until
        /// ``startReading()``), as from a peer that stopped reading.
        static func connect(port: Int, autoRead: Bool = true) async throws -> RawConnection {
            let collector = FrameCollector()
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(3))
                .channelOption(.autoRead, value: autoRead)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .get()
            return RawConnection(channel: channel, collector: collector)
        }

        /// Writes `bytes` and waits until they reached the socket.
        func send(_ bytes: [UInt8]) async throws {
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            try await channel.writeAndFlush(buffer)
        }

        /// Writes `bytes`; `false` if they have not all reached the socket
        /// within `timeout` (the peer stopped reading) or the write failed.
        /// A write that timed out stays queued until the connection closes.
        func send(_ bytes: [UInt8], within timeout: Duration) async -> Bool {
            let buffer = channel.allocator.buffer(bytes: bytes)
            let channel = channel
            let loop = channel.eventLoop
            let written = loop.flatSubmit { () -> EventLoopFuture<Bool> in
                let promise = loop.makePromise(of: Bool.self)
                let done = NIOLoopBoundBox(false, eventLoop: loop)
                let timer = loop.scheduleTask(in: TimeAmount(timeout)) {
                    guard !done.value else { return }
                    done.value = true
                    promise.succeed(false)
                }
                channel.writeAndFlush(buffer).whenComplete { result in
                    timer.cancel()
                    guard !done.value else { return }
                    done.value = true
                    promise.succeed((try? result.get()) != nil)
                }
                return promise.futureResult
            }
            return (try? await written.get()) ?? false
        }

        /// Closes the writing side (TCP FIN); the reading side stays open.
        func shutdownOutput() async throws {
            try await channel.close(mode: .output)
        }

        func close() {
            channel.close(promise: nil)
        }

        /// Turns reading on, for a connection made with `autoRead: false`.
        func startReading() async throws {
            try await channel.setOption(.autoRead, value: true).get()
        }

        /// What has arrived once `predicate` holds, the connection closed, or
        /// `timeout` passed.
        func wait(
            timeout: Duration = .seconds(3),
            until predicate: @escaping @Sendable (RawSnapshot) -> Bool
        ) async -> RawSnapshot {
            let collector = collector
            let loop = channel.eventLoop
            let future = loop.flatSubmit {
                collector.wait(on: loop, timeout: TimeAmount(timeout), until: predicate)
            }
            // The future never fails: it is only ever succeeded.
            return try! await future.get()
        }

        /// Waits until the server closed the connection (or `timeout` passed).
        func waitForClose(timeout: Duration = .seconds(3)) async -> RawSnapshot {
            await wait(timeout: timeout) { $0.closed }
        }

        /// Waits until responses for all of `callIDs` arrived.
        func waitForResponses(_ callIDs: [UInt64], timeout: Duration = .seconds(3)) async -> RawSnapshot {
            await wait(timeout: timeout) { snapshot in callIDs.allSatisfy(snapshot.hasResponse(for:)) }
        }

        /// Everything received so far, without waiting.
        func current() async -> RawSnapshot {
            await wait(timeout: .zero) { _ in true }
        }
    }

    // MARK: - Expectations

    /// The reaction to a protocol error: `GoAway{call_id: 0, code: 13}` as the
    /// last frame, after `precedingFrames` other frames, then the close.
    static func expectProtocolError(
        _ snapshot: RawSnapshot,
        precedingFrames: Int = 0,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(!snapshot.timedOut, "the server did not close the connection in time", sourceLocation: sourceLocation)
        #expect(snapshot.closed, "the connection is still open", sourceLocation: sourceLocation)
        #expect(!snapshot.receivedNonFrameBytes, "the server sent bytes that are not frames", sourceLocation: sourceLocation)
        #expect(snapshot.trailingBytes == 0, "the server sent a truncated frame", sourceLocation: sourceLocation)
        #expect(
            snapshot.frames.count == precedingFrames + 1,
            "expected \(precedingFrames) frame(s) and a GoAway, got \(snapshot.frames.map(\.badInputDescription))",
            sourceLocation: sourceLocation
        )
        guard let last = snapshot.frames.last, case .goAway(let goAway) = last.kind else {
            Issue.record("the last frame is not a GoAway: \(snapshot.frames.map(\.badInputDescription))", sourceLocation: sourceLocation)
            return
        }
        #expect(last.callID == 0, "GoAway must have call_id 0", sourceLocation: sourceLocation)
        #expect(goAway.code == 13, "GoAway code must be 13 (protocol error), got \(goAway.code)", sourceLocation: sourceLocation)
        #expect(snapshot.goAways.count == 1, sourceLocation: sourceLocation)
    }

    /// A `Response` with `status.code == code` for `callID`.
    @discardableResult
    static func expectStatus(
        _ snapshot: RawSnapshot,
        callID: UInt64,
        code: UInt32,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Framerpc_V1_Response? {
        guard let response = snapshot.response(for: callID) else {
            Issue.record(
                "no Response for call \(callID); got \(snapshot.frames.map(\.badInputDescription)), closed: \(snapshot.closed), timed out: \(snapshot.timedOut)",
                sourceLocation: sourceLocation
            )
            return nil
        }
        #expect(response.status.code == code, "call \(callID): status \(response.status.code) '\(response.status.message)', expected \(code)", sourceLocation: sourceLocation)
        if code != 0 {
            #expect(response.payload.isEmpty, "a failed Response carries no payload", sourceLocation: sourceLocation)
        }
        return response
    }

    /// A successful `Response` for `callID` whose payload is `StringValue(text)`.
    static func expectReply(
        _ snapshot: RawSnapshot,
        callID: UInt64,
        _ text: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let response = expectStatus(snapshot, callID: callID, code: 0, sourceLocation: sourceLocation) else { return }
        let value = try? StringValue(serializedBytes: response.payload)
        #expect(value?.value == text, sourceLocation: sourceLocation)
    }
}

extension Framerpc_V1_Frame {
    /// `"Response#3(12)"`, `"GoAway(13)"`…, for failure messages.
    var badInputDescription: String {
        switch kind {
        case .request: "Request#\(callID)"
        case .message: "Message#\(callID)"
        case .halfClose: "HalfClose#\(callID)"
        case .response(let response): "Response#\(callID)(\(response.status.code))"
        case .cancel: "Cancel#\(callID)"
        case .ping: "Ping"
        case .pong: "Pong"
        case .goAway(let goAway): "GoAway(code \(goAway.code), last \(goAway.lastCallID))"
        case .settings(let settings): "Settings(\(settings.maxConcurrentCalls))"
        case nil: "empty#\(callID)"
        }
    }
}

extension BadInput {
    // MARK: - Process memory

    /// This process's resident set size in bytes, from /proc/self/statm; `nil`
    /// where there is no /proc.
    static func residentMemoryBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

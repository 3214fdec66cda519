@testable import FrameRPC
import Foundation
import SwiftProtobuf
import NIOCore
import NIOPosix
import Synchronization

/// A bare TCP connection that speaks frames by hand, for checking exactly
/// what the server sends.
final class RawFrameConnection: Sendable {
    private final class Received: Sendable {
        let state = Mutex<(frames: [Framerpc_V1_Frame], closed: Bool)>(([], false))
        func withLock<R>(_ body: (inout (frames: [Framerpc_V1_Frame], closed: Bool)) -> R) -> R {
            state.withLock { body(&$0) }
        }
    }

    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let received = Received()
    private let pump: Task<Void, Never>

    private init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        self.channel = channel
        let received = received
        pump = Task {
            var pending = ByteBuffer()
            do {
                for try await var chunk in channel.inbound {
                    pending.writeBuffer(&chunk)
                    while let frame = try FrameDecoder.nextFrame(from: &pending, maximumFrameSize: 1 << 24) {
                        received.withLock { $0.frames.append(frame) }
                    }
                }
            } catch {}
            received.withLock { $0.closed = true }
        }
    }

    /// Whether the server has closed the connection.
    var isClosed: Bool { received.withLock { $0.closed } }

    /// Waits until the server closes the connection; false if it did not
    /// within `timeout`.
    func waitForClose(timeout: Duration) async -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if isClosed { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return isClosed
    }

    static func connect(port: Int) async throws -> RawFrameConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawFrameConnection(channel: channel)
    }

    func send(_ frame: Framerpc_V1_Frame) async throws {
        var buffer = ByteBuffer()
        buffer.writeFrame(frame)
        try await channel.outbound.write(buffer)
    }

    func send(callID: UInt64, request: Framerpc_V1_Request) async throws {
        var frame = Framerpc_V1_Frame()
        frame.callID = callID
        frame.request = request
        try await send(frame)
    }

    /// The next frame from the server, or `nil` if none came in `timeout`
    /// or the connection closed.
    func nextFrame(timeout: Duration) async throws -> Framerpc_V1_Frame? {
        let end = ContinuousClock.now + timeout
        while true {
            let (frame, closed) = received.withLock { state -> (Framerpc_V1_Frame?, Bool) in
                state.frames.isEmpty ? (nil, state.closed) : (state.frames.removeFirst(), false)
            }
            if let frame { return frame }
            if closed || ContinuousClock.now >= end { return nil }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    func close() async {
        channel.outbound.finish()
        try? await channel.channel.close()
        pump.cancel()
    }

    /// A test that ends without ``close()`` (the server closed first, or an
    /// expectation failed) still finishes the outbound writer: NIO traps on
    /// a writer released unfinished, which would end the whole test run.
    deinit {
        channel.outbound.finish()
        pump.cancel()
    }
}

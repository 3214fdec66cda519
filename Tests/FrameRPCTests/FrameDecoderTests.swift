@testable import FrameRPC
import Foundation
import SwiftProtobuf
import NIOCore
import NIOTestUtils
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    private func frames() -> [Framerpc_V1_Frame] {
        var request = Framerpc_V1_Frame()
        request.callID = 1
        request.request = .with {
            $0.method = "/a.B/C"
            $0.timeoutMicros = 5_000
            $0.metadata = ["x-request-id": "r1"]
            $0.payload = Data(repeating: 7, count: 300)
        }
        var response = Framerpc_V1_Frame()
        response.callID = 1
        response.response = .with { $0.payload = Data([1, 2, 3]) }
        return [request, .ping(9), response, .goAway(lastCallID: 1, code: 0, message: "bye")]
    }

    @Test("frames decode the same whether bytes arrive one by one or in odd splits")
    func oddSplits() throws {
        let pairs = frames().map { frame -> (ByteBuffer, [InboundFrame]) in
            var buffer = ByteBuffer()
            buffer.writeFrame(frame)
            return (buffer, [InboundFrame(frame)!])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            FrameDecoder(maximumFrameSize: 4096)
        }
    }

    @Test("the hand-written envelope encodes exactly as swift-protobuf does")
    func envelopeMatchesProtobuf() throws {
        for callID: UInt64 in [0, 1, 127, 128, 300, 1 << 40] {
            let body: [UInt8] = try Framerpc_V1_Request.with { $0.method = "/a.B/C" }.serializedBytes()
            var handWritten = ByteBuffer()
            handWritten.writeFrame(callID: callID, kind: .request, body: body)
            var frame = Framerpc_V1_Frame()
            frame.callID = callID
            frame.request = try Framerpc_V1_Request(serializedBytes: body)
            var viaProtobuf = ByteBuffer()
            viaProtobuf.writeFrame(frame)
            #expect(handWritten == viaProtobuf)
        }
    }

    @Test("the hand-written envelope's Settings tag (field 10) encodes exactly as swift-protobuf does")
    func settingsEnvelopeMatchesProtobuf() throws {
        let body: [UInt8] = try Framerpc_V1_Settings.with { $0.maxConcurrentCalls = 64 }.serializedBytes()
        var handWritten = ByteBuffer()
        handWritten.writeFrame(callID: 0, kind: .settings, body: body)
        var viaProtobuf = ByteBuffer()
        viaProtobuf.writeFrame(.settings(maximumConcurrentCalls: 64))
        #expect(handWritten == viaProtobuf)
    }

    @Test("a zero length is a protocol violation")
    func zeroLength() {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 0, 1])
        #expect(throws: ProtocolViolation.self) { try FrameDecoder.nextFrame(from: &buffer, maximumFrameSize: 4096) }
    }

    @Test("a length over the maximum is refused as soon as the length is read")
    func oversizeRefusedEarly() {
        var buffer = ByteBuffer(bytes: [0, 0, 0x10, 0x01])
        #expect(throws: ProtocolViolation.self) { try FrameDecoder.nextFrame(from: &buffer, maximumFrameSize: 4096) }
    }

    @Test("HTTP bytes are refused: 'GET ' reads as a length of 0x47455420")
    func httpRefused() {
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\n")
        #expect(throws: ProtocolViolation.self) { try FrameDecoder.nextFrame(from: &buffer, maximumFrameSize: 4 << 20) }
    }

    @Test("a partial frame waits for more bytes")
    func partialFrame() throws {
        var whole = ByteBuffer()
        whole.writeFrame(.ping(1))
        var partial = whole.getSlice(at: 0, length: whole.readableBytes - 1)!
        #expect(try FrameDecoder.nextFrame(from: &partial, maximumFrameSize: 4096) == nil)
    }
}

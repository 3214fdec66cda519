@testable import FrameRPC
import Foundation
import NIOCore
import SwiftProtobuf
import Testing

/// The hand decoder (``FrameParser``) and the hand encoders
/// (``OutboundFrame``) against swift-protobuf, the reference: whatever one
/// side writes, the other reads the same.
@Suite("Frame parser and outbound frames")
struct FrameParserTests {
    private func body(_ frame: Framerpc_V1_Frame) throws -> ByteBuffer {
        let bytes: [UInt8] = try frame.serializedBytes()
        return ByteBuffer(bytes: bytes)
    }

    private func sampleFrames() -> [Framerpc_V1_Frame] {
        var frames: [Framerpc_V1_Frame] = []
        var request = Framerpc_V1_Frame()
        request.callID = 300
        request.request = .with {
            $0.method = "/shop.product.v1.Products/Get"
            $0.timeoutMicros = 1 << 40
            $0.metadata = ["x-request-id": "r1", "traceparent": "00-abc", "empty": ""]
            $0.payload = Data(repeating: 7, count: 300)
        }
        frames.append(request)
        var streaming = Framerpc_V1_Frame()
        streaming.callID = 1
        streaming.request = .with { $0.method = "/a.B/C"; $0.streaming = true }
        frames.append(streaming)
        var message = Framerpc_V1_Frame()
        message.callID = 5
        message.message = .with { $0.payload = Data([1, 2, 3]) }
        frames.append(message)
        var emptyMessage = Framerpc_V1_Frame()
        emptyMessage.callID = 5
        emptyMessage.message = .init()
        frames.append(emptyMessage)
        var ok = Framerpc_V1_Frame()
        ok.callID = 7
        ok.response = .with { $0.status = .init(); $0.payload = Data([9, 9]); $0.trailers = ["a": "b"] }
        frames.append(ok)
        var failed = Framerpc_V1_Frame()
        failed.callID = 9
        failed.response = .with { $0.status = .with { $0.code = 5; $0.message = "no such product" } }
        frames.append(failed)
        var cancel = Framerpc_V1_Frame()
        cancel.callID = 11
        cancel.cancel = .init()
        frames.append(cancel)
        var halfClose = Framerpc_V1_Frame()
        halfClose.callID = 11
        halfClose.halfClose = .init()
        frames.append(halfClose)
        frames.append(.ping(0x4652_5043_5345_5431))
        frames.append(.pong(UInt64.max))
        frames.append(.goAway(lastCallID: 3, code: 0, message: "bye"))
        frames.append(.settings(maximumConcurrentCalls: 64))
        return frames
    }

    @Test("every kind decodes by hand exactly as swift-protobuf decodes it")
    func everyKindMatchesProtobuf() throws {
        for frame in sampleFrames() {
            var buffer = ByteBuffer()
            buffer.writeFrame(frame)
            let decoded = try FrameDecoder.nextInboundFrame(from: &buffer, maximumFrameSize: 1 << 20)
            #expect(decoded == InboundFrame(frame), "\(frame)")
        }
    }

    @Test("the call path's kinds are decoded without swift-protobuf")
    func callPathKindsNeedNoProtobuf() throws {
        for frame in sampleFrames() where frame.kindName != "GoAway" && frame.kindName != "Settings" {
            #expect(FrameParser.parse(try body(frame)) != nil, "\(frame.kindName)")
        }
    }

    @Test("fields in any order, unknown fields and repeated scalars decode as protobuf says")
    func unusualButValidEncodings() throws {
        // Request with payload first, an unknown varint (field 9), an unknown
        // fixed64 (field 10), a fixed32 (field 11), method given twice (last wins).
        var request = ByteBuffer()
        request.writeBytes([0x22, 0x02, 0xAA, 0xBB])                 // payload
        request.writeBytes([0x48, 0x96, 0x01])                        // field 9 varint 150
        request.writeBytes([0x51] + [UInt8](repeating: 1, count: 8))  // field 10 fixed64
        request.writeBytes([0x5D, 1, 2, 3, 4])                        // field 11 fixed32
        request.writeBytes([0x0A, 0x01, UInt8(ascii: "x")])           // method "x"
        request.writeBytes([0x0A, 0x02, UInt8(ascii: "/"), UInt8(ascii: "y")])
        request.writeBytes([0x1A, 0x04, 0x12, 0x02, UInt8(ascii: "v"), UInt8(ascii: "1")])  // entry without key
        var frameBody = ByteBuffer()
        frameBody.writeBytes([0x12, UInt8(request.readableBytes)])
        frameBody.writeImmutableBuffer(request)
        frameBody.writeBytes([0x08, 0x03])  // call_id after the kind
        frameBody.writeBytes([0x78, 0x01])  // Frame field 15, unknown

        let reference = try Framerpc_V1_Frame(serializedBytes: Array(frameBody.readableBytesView))
        let parsed = try #require(FrameParser.parse(frameBody))
        #expect(parsed == InboundFrame(reference))
        #expect(parsed.callID == 3)
    }

    @Test("a body the parser leaves to swift-protobuf still decodes as protobuf says")
    func fallbackKeepsProtobufSemantics() throws {
        // The kind field twice: protobuf merges the two Requests.
        let first: [UInt8] = try Framerpc_V1_Request.with { $0.method = "/a.B/C" }.serializedBytes()
        let second: [UInt8] = try Framerpc_V1_Request.with { $0.timeoutMicros = 42 }.serializedBytes()
        var frameBody = ByteBuffer(bytes: [0x08, 0x01, 0x12, UInt8(first.count)] + first + [0x12, UInt8(second.count)] + second)
        #expect(FrameParser.parse(frameBody) == nil)
        var framed = ByteBuffer()
        framed.writeInteger(UInt32(frameBody.readableBytes))
        framed.writeBuffer(&frameBody)
        let decoded = try #require(try FrameDecoder.nextInboundFrame(from: &framed, maximumFrameSize: 4096))
        guard case .request(let request) = decoded.kind else {
            Issue.record("expected a Request, got \(decoded.kindName)")
            return
        }
        #expect(request.method == "/a.B/C")
        #expect(request.timeoutMicros == 42)
    }

    @Test("a method name that is not UTF-8 is a malformed frame, as with swift-protobuf")
    func invalidUTF8IsMalformed() throws {
        let request: [UInt8] = [0x0A, 0x02, 0xC3, 0x28]
        var framed = ByteBuffer()
        framed.writeInteger(UInt32(4 + request.count))
        framed.writeBytes([0x08, 0x01, 0x12, UInt8(request.count)] + request)
        #expect(throws: ProtocolViolation.self) {
            _ = try FrameDecoder.nextInboundFrame(from: &framed, maximumFrameSize: 4096)
        }
    }

    @Test("a truncated field inside a frame is a malformed frame")
    func truncatedFieldIsMalformed() throws {
        var framed = ByteBuffer()
        framed.writeInteger(UInt32(4))
        framed.writeBytes([0x08, 0x01, 0x12, 0x05])  // Request of 5 bytes, none there
        #expect(throws: ProtocolViolation.self) {
            _ = try FrameDecoder.nextInboundFrame(from: &framed, maximumFrameSize: 4096)
        }
    }

    @Test("an OK Response built in place reads back through swift-protobuf")
    func okResponseRoundTrips() throws {
        for size in [0, 1, 127, 128, 20_000] {
            let message = Google_Protobuf_BytesValue.with { $0.value = Data(repeating: 3, count: size) }
            let payload: FramePayload = try message.serializedBytes()
            for callID: UInt64 in [1, 127, 128, 1 << 40] {
                var frame = OutboundFrame.okResponse(callID: callID, payload: payload, trailers: ["k": "v", "x-y": ""])
                let decoded = try #require(try FrameDecoder.nextFrame(from: &frame, maximumFrameSize: 1 << 20))
                #expect(frame.readableBytes == 0)
                #expect(decoded.callID == callID)
                #expect(decoded.response.hasStatus && decoded.response.status.code == 0)
                #expect(decoded.response.trailers == ["k": "v", "x-y": ""])
                #expect(try Google_Protobuf_BytesValue(serializedBytes: decoded.response.payload) == message)
            }
        }
    }

    @Test("a Request built in place, payload first, reads back through swift-protobuf")
    func requestRoundTrips() throws {
        for size in [0, 100, 200] {
            let message = Google_Protobuf_BytesValue.with { $0.value = Data(repeating: 1, count: size) }
            let payload: FramePayload = try message.serializedBytes()
            let body = OutboundFrame.requestBody(payload: payload, method: "/a.B/C", timeoutMicros: 1_500, metadata: ["x-request-id": "r"])
            for callID: UInt64 in [1, 129, 1 << 33] {
                var frame = OutboundFrame.request(callID: callID, body: body)
                let decoded = try #require(try FrameDecoder.nextFrame(from: &frame, maximumFrameSize: 1 << 20))
                #expect(frame.readableBytes == 0)
                #expect(decoded.callID == callID)
                #expect(decoded.request.method == "/a.B/C")
                #expect(decoded.request.timeoutMicros == 1_500)
                #expect(decoded.request.metadata == ["x-request-id": "r"])
                #expect(try Google_Protobuf_BytesValue(serializedBytes: decoded.request.payload) == message)
            }
        }
    }

    @Test("a streamed Message built in place reads back through swift-protobuf")
    func messageRoundTrips() throws {
        let message = Google_Protobuf_StringValue.with { $0.value = "hello" }
        let payload: FramePayload = try message.serializedBytes()
        var frame = OutboundFrame.message(callID: 3, payload: payload)
        let decoded = try #require(try FrameDecoder.nextFrame(from: &frame, maximumFrameSize: 4096))
        #expect(decoded.callID == 3)
        #expect(try Google_Protobuf_StringValue(serializedBytes: decoded.message.payload) == message)
    }
}

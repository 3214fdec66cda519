import Foundation
import NIOCore

/// One received frame, as the connection handlers read it: the kinds on a
/// call's path taken apart, their payloads left as slices of the received
/// bytes (no copy), the rare connection-level kinds as their generated
/// messages.
struct InboundFrame: Equatable {
    var callID: UInt64
    var kind: Kind

    enum Kind: Equatable {
        case request(RequestFrame)
        case message(payload: ByteBuffer)
        case halfClose
        case response(ResponseFrame)
        case cancel
        case ping(opaque: UInt64)
        case pong(opaque: UInt64)
        case goAway(Framerpc_V1_GoAway)
        case settings(Framerpc_V1_Settings)
    }

    /// The name of the frame's kind, for errors and logs.
    var kindName: String {
        switch kind {
        case .request: "Request"
        case .message: "Message"
        case .halfClose: "HalfClose"
        case .response: "Response"
        case .cancel: "Cancel"
        case .ping: "Ping"
        case .pong: "Pong"
        case .goAway: "GoAway"
        case .settings: "Settings"
        }
    }
}

/// `framerpc.v1.Request`, with its payload a slice of the received frame.
struct RequestFrame: Equatable {
    var method = ""
    var timeoutMicros: UInt64 = 0
    var metadata: [String: String] = [:]
    var payload = ByteBuffer()
    var streaming = false
}

/// `framerpc.v1.Response`, with its payload a slice of the received frame.
/// The status is decoded only when it is not the empty (OK) one.
struct ResponseFrame: Equatable {
    var status = Framerpc_V1_Status()
    var payload = ByteBuffer()
    var trailers: [String: String] = [:]
}

extension InboundFrame {
    /// The frame swift-protobuf decoded, for bodies ``FrameParser`` leaves to
    /// it; `nil` for a frame without a kind.
    init?(_ frame: Framerpc_V1_Frame) {
        callID = frame.callID
        switch frame.kind {
        case .request(let request):
            kind = .request(RequestFrame(
                method: request.method,
                timeoutMicros: request.timeoutMicros,
                metadata: request.metadata,
                payload: ByteBuffer(bytes: request.payload),
                streaming: request.streaming
            ))
        case .message(let message):
            kind = .message(payload: ByteBuffer(bytes: message.payload))
        case .halfClose:
            kind = .halfClose
        case .response(let response):
            kind = .response(ResponseFrame(
                status: response.status,
                payload: ByteBuffer(bytes: response.payload),
                trailers: response.trailers
            ))
        case .cancel:
            kind = .cancel
        case .ping(let ping):
            kind = .ping(opaque: ping.opaque)
        case .pong(let pong):
            kind = .pong(opaque: pong.opaque)
        case .goAway(let goAway):
            kind = .goAway(goAway)
        case .settings(let settings):
            kind = .settings(settings)
        case nil:
            return nil
        }
    }
}

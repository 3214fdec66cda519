/// A breach of the wire protocol by the peer. It ends the connection: the
/// receiver sends `GoAway{code: 13}` with ``reason`` and closes (PROTOCOL.md
/// section 6). It never affects another connection.
struct ProtocolViolation: Error, Hashable, Sendable, CustomStringConvertible {
    let reason: String

    static func frameLength(_ length: UInt32, maximum: Int) -> ProtocolViolation {
        length == 0
            ? ProtocolViolation(reason: "frame length 0")
            : ProtocolViolation(reason: "frame length \(length) exceeds the maximum of \(maximum)")
    }
    static let malformedFrame = ProtocolViolation(reason: "frame body is not a valid framerpc.v1.Frame")
    static let emptyFrame = ProtocolViolation(reason: "frame carries no kind")

    static func unexpected(_ kind: String) -> ProtocolViolation {
        ProtocolViolation(reason: "a \(kind) frame may not be sent by this side")
    }

    var description: String { reason }
}

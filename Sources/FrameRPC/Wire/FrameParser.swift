import NIOCore

/// Decodes a frame body by hand, as ``ByteBuffer/writeFrame(callID:kind:body:)``
/// encodes one: the envelope and the kinds on a call's path without
/// swift-protobuf, so a call costs no generated-message allocations and its
/// payload stays a slice of the bytes read.
///
/// It accepts what a protobuf decoder accepts in the ordinary case: fields
/// in any order, unknown fields skipped (varint, fixed32, fixed64 and
/// length-delimited), the last value of a repeated scalar field, map entries
/// in any order. Anything else (a second kind field, groups, a wire type
/// that does not match the field, invalid UTF-8, a varint over ten bytes, a
/// truncated field) returns `nil`, and the caller decodes the body with
/// swift-protobuf instead, which accepts or rejects it as the protobuf rules
/// say. So the two paths never disagree about what is a valid frame.
enum FrameParser {
    /// The frame in `body`, or `nil` when swift-protobuf must decide.
    static func parse(_ body: ByteBuffer) -> InboundFrame? {
        var body = body
        var callID: UInt64 = 0
        var kindField: UInt64 = 0
        var kindBody = ByteBuffer()
        while body.readableBytes > 0 {
            guard case let (field, wireType)? = readTag(&body) else { return nil }
            switch field {
            case 1:
                guard wireType == 0, let value = readVarint(&body) else { return nil }
                callID = value
            case 2...10:
                // A repeated kind field merges or replaces: protobuf's call.
                guard wireType == 2, kindField == 0, let slice = readLengthDelimited(&body) else { return nil }
                kindField = field
                kindBody = slice
            default:
                guard skip(wireType: wireType, &body) else { return nil }
            }
        }
        let kind: InboundFrame.Kind
        switch kindField {
        case 2:
            guard let request = parseRequest(kindBody) else { return nil }
            kind = .request(request)
        case 3:
            guard let payload = parseSingleBytesField(kindBody) else { return nil }
            kind = .message(payload: payload)
        case 4:
            guard isValidMessage(kindBody) else { return nil }
            kind = .halfClose
        case 5:
            guard let response = parseResponse(kindBody) else { return nil }
            kind = .response(response)
        case 6:
            guard isValidMessage(kindBody) else { return nil }
            kind = .cancel
        case 7:
            guard let opaque = parseSingleVarintField(kindBody) else { return nil }
            kind = .ping(opaque: opaque)
        case 8:
            guard let opaque = parseSingleVarintField(kindBody) else { return nil }
            kind = .pong(opaque: opaque)
        default:
            // GoAway and Settings are rare: swift-protobuf decodes the frame.
            return nil
        }
        return InboundFrame(callID: callID, kind: kind)
    }

    // MARK: Kinds

    private static func parseRequest(_ body: ByteBuffer) -> RequestFrame? {
        var body = body
        var request = RequestFrame()
        while body.readableBytes > 0 {
            guard case let (field, wireType)? = readTag(&body) else { return nil }
            switch (field, wireType) {
            case (1, 2):
                guard let method = readString(&body) else { return nil }
                request.method = method
            case (2, 0):
                guard let timeout = readVarint(&body) else { return nil }
                request.timeoutMicros = timeout
            case (3, 2):
                guard var entry = readLengthDelimited(&body), case let (key, value)? = parseMapEntry(&entry) else { return nil }
                request.metadata[key] = value
            case (4, 2):
                guard let payload = readLengthDelimited(&body) else { return nil }
                request.payload = payload
            case (5, 0):
                guard let streaming = readVarint(&body) else { return nil }
                request.streaming = streaming != 0
            case (1...5, _):
                return nil
            default:
                guard skip(wireType: wireType, &body) else { return nil }
            }
        }
        return request
    }

    private static func parseResponse(_ body: ByteBuffer) -> ResponseFrame? {
        var body = body
        var response = ResponseFrame()
        var status: ByteBuffer?
        while body.readableBytes > 0 {
            guard case let (field, wireType)? = readTag(&body) else { return nil }
            switch (field, wireType) {
            case (1, 2):
                // A repeated Status merges: left to swift-protobuf.
                guard status == nil, let slice = readLengthDelimited(&body) else { return nil }
                status = slice
            case (2, 2):
                guard let payload = readLengthDelimited(&body) else { return nil }
                response.payload = payload
            case (3, 2):
                guard var entry = readLengthDelimited(&body), case let (key, value)? = parseMapEntry(&entry) else { return nil }
                response.trailers[key] = value
            case (1...3, _):
                return nil
            default:
                guard skip(wireType: wireType, &body) else { return nil }
            }
        }
        if let status, status.readableBytes > 0 {
            // Not OK (or OK said at length): rare, decoded by swift-protobuf.
            guard let decoded = try? Framerpc_V1_Status(serializedBytes: status.readableBytesSpan) else { return nil }
            response.status = decoded
        }
        return response
    }

    /// `Message{payload}`: field 1, bytes.
    private static func parseSingleBytesField(_ body: ByteBuffer) -> ByteBuffer? {
        var body = body
        var payload = ByteBuffer()
        while body.readableBytes > 0 {
            guard case let (field, wireType)? = readTag(&body) else { return nil }
            if field == 1 {
                guard wireType == 2, let slice = readLengthDelimited(&body) else { return nil }
                payload = slice
            } else {
                guard skip(wireType: wireType, &body) else { return nil }
            }
        }
        return payload
    }

    /// `Ping{opaque}` and `Pong{opaque}`: field 1, uint64.
    private static func parseSingleVarintField(_ body: ByteBuffer) -> UInt64? {
        var body = body
        var value: UInt64 = 0
        while body.readableBytes > 0 {
            guard case let (field, wireType)? = readTag(&body) else { return nil }
            if field == 1 {
                guard wireType == 0, let read = readVarint(&body) else { return nil }
                value = read
            } else {
                guard skip(wireType: wireType, &body) else { return nil }
            }
        }
        return value
    }

    /// An empty message kind (`HalfClose`, `Cancel`): only unknown fields.
    private static func isValidMessage(_ body: ByteBuffer) -> Bool {
        var body = body
        while body.readableBytes > 0 {
            guard case let (_, wireType)? = readTag(&body), skip(wireType: wireType, &body) else { return false }
        }
        return true
    }

    /// A `map<string, string>` entry: key 1, value 2, each optional.
    private static func parseMapEntry(_ entry: inout ByteBuffer) -> (String, String)? {
        var key = ""
        var value = ""
        while entry.readableBytes > 0 {
            guard case let (field, wireType)? = readTag(&entry) else { return nil }
            switch (field, wireType) {
            case (1, 2):
                guard let read = readString(&entry) else { return nil }
                key = read
            case (2, 2):
                guard let read = readString(&entry) else { return nil }
                value = read
            case (1...2, _):
                return nil
            default:
                guard skip(wireType: wireType, &entry) else { return nil }
            }
        }
        return (key, value)
    }

    // MARK: Wire primitives

    /// A field's number and wire type; `nil` for field number 0 or a bad varint.
    private static func readTag(_ buffer: inout ByteBuffer) -> (UInt64, UInt8)? {
        guard let tag = readVarint(&buffer), tag >> 3 != 0, tag >> 3 <= UInt64(UInt32.max >> 3) else { return nil }
        return (tag >> 3, UInt8(truncatingIfNeeded: tag & 7))
    }

    static func readVarint(_ buffer: inout ByteBuffer) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while shift < 64 {
            guard let byte = buffer.readInteger(as: UInt8.self) else { return nil }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    private static func readLengthDelimited(_ buffer: inout ByteBuffer) -> ByteBuffer? {
        guard let length = readVarint(&buffer), length <= UInt64(buffer.readableBytes) else { return nil }
        return buffer.readSlice(length: Int(length))
    }

    /// A proto3 `string`: must be valid UTF-8.
    private static func readString(_ buffer: inout ByteBuffer) -> String? {
        guard let slice = readLengthDelimited(&buffer) else { return nil }
        if slice.readableBytes == 0 { return "" }
        return String(validating: slice.readableBytesView, as: UTF8.self)
    }

    private static func skip(wireType: UInt8, _ buffer: inout ByteBuffer) -> Bool {
        switch wireType {
        case 0:
            return readVarint(&buffer) != nil
        case 1:
            return buffer.readSlice(length: 8) != nil
        case 2:
            return readLengthDelimited(&buffer) != nil
        case 5:
            return buffer.readSlice(length: 4) != nil
        default:
            return false
        }
    }
}

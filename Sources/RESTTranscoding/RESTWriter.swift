import Foundation
import NIOCore
import SwiftProtobuf

/// Writes the REST JSON of a response straight into a `ByteBuffer`, as the
/// generated ``RESTMessage/writeREST(to:)`` conformances call it: compact,
/// members in the order written, strings escaped as ``JSONValue`` does.
///
/// Commas are the writer's business: ``key(_:)`` and ``element()`` put one
/// before every member or item but the first of its container.
public struct RESTWriter {
    public private(set) var buffer: ByteBuffer
    /// Whether the next member or item is its container's first.
    private var first = true

    public init(capacity: Int = 512) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    // MARK: Structure

    public mutating func beginObject() {
        buffer.writeInteger(UInt8(ascii: "{"))
        first = true
    }

    public mutating func endObject() {
        buffer.writeInteger(UInt8(ascii: "}"))
        first = false
    }

    public mutating func beginArray() {
        buffer.writeInteger(UInt8(ascii: "["))
        first = true
    }

    public mutating func endArray() {
        buffer.writeInteger(UInt8(ascii: "]"))
        first = false
    }

    /// A member's name, given as the generated code writes it: quoted and
    /// with its colon (`"id":`, a proto field name: nothing to escape), so
    /// it is one copy; after a comma unless it is the object's first member.
    public mutating func key(_ quotedNameAndColon: StaticString) {
        if !first { buffer.writeInteger(UInt8(ascii: ",")) }
        first = false
        buffer.writeStaticString(quotedNameAndColon)
    }

    /// Before each item of an array: a comma unless it is the first.
    public mutating func element() {
        if !first { buffer.writeInteger(UInt8(ascii: ",")) }
        first = false
    }

    // MARK: Values

    public mutating func string(_ text: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        // Most strings need no escape: copied whole, not byte by byte.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            buffer.writeString(text)
        } else {
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                case 0..<0x20:
                    let hex: StaticString = "0123456789abcdef"
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex.utf8Start[Int(byte >> 4)])
                    buffer.writeInteger(hex.utf8Start[Int(byte & 0xF)])
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// A name from a fixed set (an enum value's REST name): nothing to escape.
    public mutating func name(_ text: StaticString) {
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(text)
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    public mutating func bool(_ value: Bool) {
        buffer.writeStaticString(value ? "true" : "false")
    }

    public mutating func int<Integer: BinaryInteger>(_ value: Integer) {
        if value >= 0, value < 10 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(value))
        } else {
            buffer.writeString(String(value))
        }
    }

    /// Shortest round-trip text, as protobuf's JSON mapping writes doubles;
    /// NaN and the infinities as the strings it uses for them.
    public mutating func double(_ value: Double) {
        if value.isNaN {
            buffer.writeStaticString("\"NaN\"")
        } else if value.isInfinite {
            buffer.writeStaticString(value < 0 ? "\"-Infinity\"" : "\"Infinity\"")
        } else {
            buffer.writeString(value.debugDescription)
        }
    }

    /// Integer cents as a decimal number: `1999` as `19.99`, `-50` as `-0.50`.
    public mutating func money(_ cents: Int64) {
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        if cents < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        int(magnitude / 100)
        buffer.writeInteger(UInt8(ascii: "."))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(fraction / 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// Base64 with padding, as protobuf's JSON mapping writes bytes.
    public mutating func bytes(_ data: Data) {
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeString(data.base64EncodedString())
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    public mutating func timestamp(_ timestamp: Google_Protobuf_Timestamp) {
        RESTTimestamp.write(seconds: timestamp.seconds, nanos: timestamp.nanos, into: &buffer)
    }

    /// A nested message.
    public mutating func message<Message: RESTMessage>(_ message: Message) {
        message.writeREST(to: &self)
    }

    /// A repeated message field as an array.
    public mutating func messages<Message: RESTMessage>(_ messages: [Message]) {
        beginArray()
        for message in messages {
            element()
            message.writeREST(to: &self)
        }
        endArray()
    }

    /// Text already in JSON form (an empty array, for a missing response body).
    public mutating func raw(_ json: StaticString) {
        buffer.writeStaticString(json)
    }
}

/// Key-value pairs sent with a request (headers) or a response (trailers).
///
/// Keys are lowercase ASCII from `[a-z0-9-_.]`; setting a key lowercases it.
/// Values are UTF-8. A request's metadata may hold at most
/// ``Metadata/maximumEncodedSize`` bytes of keys and values in all; a server
/// answers RESOURCE_EXHAUSTED beyond that.
public struct Metadata: Hashable, Sendable {
    /// The limit on a request's metadata, keys and values together (8 KiB).
    public static let maximumEncodedSize = 8 * 1024

    /// Reserved keys (PROTOCOL.md section 5).
    public enum ReservedKey {
        public static let traceParent = "traceparent"
        public static let traceState = "tracestate"
        public static let requestID = "x-request-id"
        public static let caller = "x-caller"
        public static let authorization = "authorization"
        /// Keys a client copies from the call it is serving onto every
        /// outgoing call, so one request can be followed across services.
        static let propagated = [traceParent, traceState, requestID]
    }

    private(set) var storage: [String: String]

    public init() { storage = [:] }

    /// Wraps a dictionary that came off the wire; validity is checked by
    /// ``validationError`` where it matters (the server, for requests).
    init(trusted storage: [String: String]) { self.storage = storage }

    public subscript(key: String) -> String? {
        get { storage[key.lowercased()] }
        set { storage[key.lowercased()] = newValue }
    }

    public var isEmpty: Bool { storage.isEmpty }
    public var count: Int { storage.count }

    /// Keys and values in all, in bytes, as counted against the limit.
    public var encodedSize: Int {
        storage.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
    }

    /// Why this metadata may not be sent on a request, or `nil` if it may.
    public var validationError: RPCError? {
        if encodedSize > Self.maximumEncodedSize {
            return RPCError(
                code: .resourceExhausted,
                message: "metadata is \(encodedSize) bytes; at most \(Self.maximumEncodedSize) are allowed"
            )
        }
        for key in storage.keys where !Self.isValidKey(key) {
            return RPCError(
                code: .invalidArgument,
                message: "metadata key '\(key.prefix(64))' is not lowercase ASCII [a-z0-9-_.]"
            )
        }
        return nil
    }

    static func isValidKey(_ key: String) -> Bool {
        guard !key.isEmpty else { return false }
        return key.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}

extension Metadata: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init()
        for (key, value) in elements { self[key] = value }
    }
}

extension Metadata: Sequence {
    public func makeIterator() -> Dictionary<String, String>.Iterator { storage.makeIterator() }
}

extension Metadata: CustomStringConvertible {
    /// Keys only: values may hold credentials and must not reach logs.
    public var description: String { "Metadata(keys: \(storage.keys.sorted()))" }
}

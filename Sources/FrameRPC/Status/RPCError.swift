import SwiftProtobuf

/// The outcome of a call that did not succeed: a status code, a message for
/// humans and optional typed details.
///
/// Handlers throw it to answer with a status; clients receive it when a call
/// fails. Any other error a handler throws reaches the caller as
/// `INTERNAL` with the message "internal error", and its description goes to
/// the server's log only.
public struct RPCError: Error, Hashable, Sendable {
    /// The status code, one of gRPC's numbers (never ``Code-swift.struct/ok``).
    public var code: Code
    /// A message for humans. Never a stack trace or an internal detail.
    public var message: String
    /// Machine-readable details (`google.protobuf.Any`), sent as they are.
    public var details: [Google_Protobuf_Any]
    /// Trailing metadata that came with the failed response.
    public var trailers: Metadata
    /// True when the server is known not to have started the call (it was
    /// never written, or the server refused it in a `GoAway`), so sending it
    /// again cannot do anything twice, whatever the method.
    public internal(set) var neverProcessed: Bool = false

    public init(
        code: Code,
        message: String,
        details: [Google_Protobuf_Any] = [],
        trailers: Metadata = [:]
    ) {
        self.code = code
        self.message = message
        self.details = details
        self.trailers = trailers
    }
}

extension RPCError: CustomStringConvertible {
    public var description: String { "\(code): \(message)" }
}

extension RPCError {
    /// A status code. A struct rather than an enum so that new codes can be
    /// added without breaking exhaustive switches in users' code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's number on the wire.
        public let rawValue: UInt32

        /// A code from its wire number; numbers outside 1...16 are `nil`
        /// (0 is OK, which is not an error).
        public init?(rawValue: UInt32) {
            guard (1...16).contains(rawValue) else { return nil }
            self.rawValue = rawValue
        }

        private init(_ value: UInt32) { self.rawValue = value }

        public static let cancelled = Code(1)
        public static let unknown = Code(2)
        public static let invalidArgument = Code(3)
        public static let deadlineExceeded = Code(4)
        public static let notFound = Code(5)
        public static let alreadyExists = Code(6)
        public static let permissionDenied = Code(7)
        public static let resourceExhausted = Code(8)
        public static let failedPrecondition = Code(9)
        public static let aborted = Code(10)
        public static let outOfRange = Code(11)
        public static let unimplemented = Code(12)
        public static let `internal` = Code(13)
        public static let unavailable = Code(14)
        public static let dataLoss = Code(15)
        public static let unauthenticated = Code(16)

        /// The canonical upper-case name (`NOT_FOUND`), as gRPC spells it.
        public var name: String {
            Self.names[Int(rawValue)]
        }

        public var description: String { name }

        private static let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
            "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
            "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
            "UNAUTHENTICATED",
        ]
    }
}

/// A domain error that knows which RPC status it stands for. Handlers may
/// throw such errors directly; the server answers with their ``rpcError``.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError: RPCErrorConvertible {
    public var rpcError: RPCError { self }
}

extension RPCError {
    /// The status a handler's thrown error is answered with: its own status
    /// when it has one, CANCELLED for a cancellation, else INTERNAL without
    /// detail (the caller must never see internals).
    public static func answering(_ error: any Error) -> RPCError {
        if let convertible = error as? any RPCErrorConvertible {
            return convertible.rpcError
        }
        if error is CancellationError {
            return RPCError(code: .cancelled, message: "call cancelled")
        }
        return RPCError(code: .internal, message: "internal error")
    }

    init(status: Framerpc_V1_Status, trailers: [String: String]) {
        self.init(
            code: Code(rawValue: status.code) ?? .unknown,
            message: status.message,
            details: status.details,
            trailers: Metadata(trusted: trailers)
        )
    }

    var wireStatus: Framerpc_V1_Status {
        var status = Framerpc_V1_Status()
        status.code = code.rawValue
        status.message = message
        status.details = details
        return status
    }
}

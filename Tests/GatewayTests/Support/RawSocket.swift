import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain TCP sockets for what an HTTP test client cannot do: read a
/// Server-Sent Events stream as it arrives, hang up in the middle of one,
/// and stand in for a host that accepts connections but never answers.
enum RawSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    #if canImport(Darwin)
    static let streamType = SOCK_STREAM
    static let sendFlags: Int32 = 0
    #else
    static let streamType = Int32(SOCK_STREAM.rawValue)
    static let sendFlags = Int32(MSG_NOSIGNAL)
    #endif

    /// A listening socket on 127.0.0.1 and its port.
    static func listening(backlog: Int32 = 16) throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, streamType, 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, backlog) == 0 else {
            close(descriptor)
            throw Failure(description: "bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A port where connecting is refused, for as long as the tests run.
    ///
    /// Its socket stays bound but never listens, so the kernel refuses
    /// connections to it and, unlike a port that was merely closed, never
    /// hands it to a server another test starts on an ephemeral port
    /// meanwhile (which would turn a "dead" upstream into a live one). A
    /// service that must come back on a known port uses
    /// `restartablePort()` from ServiceTesting.
    static func refusingPort() throws -> Int {
        try reservedRefusingPort.get()
    }

    private static let reservedRefusingPort: Result<Int, Failure> = {
        let descriptor = socket(AF_INET, streamType, 0)
        guard descriptor >= 0 else { return .failure(Failure(description: "socket() failed")) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(descriptor)
            return .failure(Failure(description: "bind failed"))
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return .success(Int(UInt16(bigEndian: address.sin_port)))
    }()

    /// A connected socket to 127.0.0.1:`port`.
    static func connected(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, streamType, 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw Failure(description: "connect to \(port) failed")
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }
}

/// A host that accepts TCP connections (the kernel completes them from the
/// backlog) but never reads or answers: every call to it runs into its
/// deadline.
final class Blackhole: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        (descriptor, port) = try RawSocket.listening()
    }

    deinit {
        close(descriptor)
    }
}

/// An HTTP/1.1 connection read byte by byte as it arrives, for streaming
/// responses. Blocking reads (20 s timeout): use from a detached task.
final class StreamingHTTPConnection: @unchecked Sendable {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    init(port: Int) throws {
        descriptor = try RawSocket.connected(port: port)
    }

    deinit {
        hangUp()
    }

    /// Sends a request with `headers` and no body.
    func sendRequest(method: String = "GET", path: String, headers: [String: String]) throws {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, RawSocket.sendFlags) }
        guard sent == bytes.count else { throw RawSocket.Failure(description: "send failed") }
    }

    /// Reads until `marker` has arrived and returns everything before and
    /// including it; `nil` if the connection ended first.
    func read(through marker: String) throws -> String? {
        let needle = Array(marker.utf8)
        while true {
            if let range = Self.find(needle, in: buffer) {
                let text = String(decoding: buffer[..<range.upperBound], as: UTF8.self)
                buffer.removeSubrange(..<range.upperBound)
                return text
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            guard count > 0 else { throw RawSocket.Failure(description: "recv failed or timed out (errno \(errno))") }
            buffer += chunk[..<count]
        }
    }

    /// The response head: status line and headers.
    func readHead() throws -> (status: Int, headers: [String: String]) {
        guard let head = try read(through: "\r\n\r\n") else { throw RawSocket.Failure(description: "no response head") }
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (statusParts.count > 1 ? Int(statusParts[1]) ?? 0 : 0, headers)
    }

    /// The next Server-Sent Event (chunked framing lines are skipped):
    /// its `event:` name (or `:comment` for a comment) and its `data:`.
    func readEvent() throws -> (event: String, data: String)? {
        var event = ""
        var data = ""
        while let line = try read(through: "\n") {
            let text = line.trimmingCharacters(in: CharacterSet(charactersIn: "\r\n"))
            if text.isEmpty {
                if !event.isEmpty || !data.isEmpty { return (event, data) }
                continue
            }
            if text.hasPrefix("event: ") {
                event = String(text.dropFirst(7))
            } else if text.hasPrefix("data: ") {
                data += String(text.dropFirst(6))
            } else if text.hasPrefix(":") {
                event = ":comment"
                data = String(text.dropFirst())
            } else if text.allSatisfy(\.isHexDigit) {
                // A chunk size line of the chunked transfer coding.
                if text == "0" { return nil }
            }
        }
        return nil
    }

    func hangUp() {
        guard !closed else { return }
        closed = true
        close(descriptor)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start..<(start + needle.count)
        }
        return nil
    }
}

/// Runs blocking socket work on a thread of its own, never on Swift's
/// cooperative pool (which has one thread per core: a blocked read there
/// would stall the gateway and services running in the same process).
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try work() })
        }
        thread.start()
    }
}

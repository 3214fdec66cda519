import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// HTTP/1.1 over a plain socket from a chosen loopback source address, for
/// what the abuse tests do that a test client cannot: several client
/// addresses (all of 127.0.0.0/8 is loopback on Linux), many connections
/// at once, bodies sent a byte at a time. Blocking calls: use them through
/// ``onOwnThread(_:)``.
final class RawHTTPConnection: @unchecked Sendable {
    struct Response: Sendable {
        let status: Int
        let headers: [String: String]
        let body: String
    }

    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    /// Connects to 127.0.0.1:`port` from `source` (any port).
    init(port: Int, from source: String = "127.0.0.1", receiveTimeout: Int = 20) throws {
        let descriptor = socket(AF_INET, RawSocket.streamType, 0)
        guard descriptor >= 0 else { throw RawSocket.Failure(description: "socket() failed") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = 0
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw RawSocket.Failure(description: "bind to \(source) failed (errno \(errno))")
        }
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw RawSocket.Failure(description: "connect to \(port) from \(source) failed (errno \(errno))")
        }
        var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.descriptor = descriptor
    }

    deinit {
        hangUp()
    }

    /// Sends `bytes` as they are; `false` if the peer has closed.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, RawSocket.sendFlags) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// A request head (and `body`, if any) with `Content-Length`.
    static func request(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        return text + "\r\n" + (body ?? "")
    }

    /// Reads one whole response (by `Content-Length`, or to the end of the
    /// connection); `nil` when the connection ended before a response.
    func readResponse() throws -> Response? {
        guard let headEnd = try fill(until: { Self.find(Array("\r\n\r\n".utf8), in: $0)?.upperBound }) else { return nil }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeSubrange(..<headEnd)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let status = statusParts.count > 1 ? Int(statusParts[1]) ?? 0 : 0
        var body: [UInt8] = []
        if let length = headers["content-length"].flatMap(Int.init) {
            if try fill(until: { $0.count >= length ? length : nil }) != nil {
                body = Array(buffer[..<length])
                buffer.removeSubrange(..<length)
            }
        }
        return Response(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    /// Whether the peer closed the connection (reads end) within the
    /// receive timeout, discarding anything it sent first.
    func waitForClose() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    func hangUp() {
        guard !closed else { return }
        closed = true
        close(descriptor)
    }

    /// Reads until `done` finds what it needs in the buffer; `nil` if the
    /// connection ended first.
    private func fill(until done: ([UInt8]) -> Int?) throws -> Int? {
        while true {
            if let found = done(buffer) { return found }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 || (count < 0 && errno == ECONNRESET) { return nil }
            guard count > 0 else { throw RawSocket.Failure(description: "recv failed or timed out (errno \(errno))") }
            buffer += chunk[..<count]
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start..<(start + needle.count)
        }
        return nil
    }
}

/// One request on a fresh connection from `source`, read to its response.
func rawRequest(port: Int, from source: String = "127.0.0.1", _ request: String) async throws -> RawHTTPConnection.Response? {
    try await onOwnThread {
        let connection = try RawHTTPConnection(port: port, from: source)
        defer { connection.hangUp() }
        guard connection.send(request) else { return nil }
        return try connection.readResponse()
    }
}

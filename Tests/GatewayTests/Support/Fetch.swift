import Foundation

/// `GET path` on 127.0.0.1:`port` over a fresh connection, read to its end:
/// for HTTP endpoints that are not the gateway (a service's metrics port).
func fetch(port: Int, path: String) async throws -> (status: Int, headers: [String: String], body: String) {
    try await onOwnThread {
        let connection = try StreamingHTTPConnection(port: port)
        defer { connection.hangUp() }
        try connection.sendRequest(path: path, headers: ["Connection": "close"])
        let head = try connection.readHead()
        var body = ""
        while let piece = try connection.read(through: "\n") { body += piece }
        return (head.status, head.headers, body)
    }
}

import Foundation
@testable import Gateway
import Hummingbird
import RESTTranscoding
import Testing

/// What every response carries, whatever the route.
@Suite("Request ids, process time and CORS")
struct EnvelopeTests {
    @Test("the caller's X-Request-ID comes back on the response and in the error body")
    func requestIDEchoed() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/api/users/me", headers: ["X-Request-ID": "abc-123"])
            #expect(reply.header("X-Request-ID") == "abc-123")
            #expect(reply.string("request_id") == "abc-123")
        }
    }

    @Test("without X-Request-ID each response gets a new UUID")
    func requestIDGenerated() async throws {
        try await withDeadGateway { http, _ throws in
            let first = try await http.get("/")
            let second = try await http.get("/")
            let firstID = try #require(first.header("X-Request-ID"))
            #expect(UUID(uuidString: firstID) != nil)
            #expect(firstID != second.header("X-Request-ID"))
        }
    }

    @Test("an unreasonable X-Request-ID is replaced by a new one", arguments: [String(repeating: "x", count: 300), "has space"])
    func requestIDReplaced(_ value: String) async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/", headers: ["X-Request-ID": value])
            #expect(reply.header("X-Request-ID").flatMap(UUID.init(uuidString:)) != nil)
        }
    }

    @Test("every response, success or error, carries X-Process-Time in milliseconds")
    func processTime() async throws {
        try await withDeadGateway { http, _ throws in
            for path in ["/", "/nope", "/api/users/me", "/api/products/"] {
                let reply = try await http.get(path)
                let value = try #require(reply.header("X-Process-Time"), "\(path)")
                #expect((Double(value) ?? -1) >= 0)
            }
        }
    }

    @Test("an allowed origin gets CORS headers, including on errors")
    func corsAllowed() async throws {
        try await withDeadGateway({ $0.corsOrigins = ["https://shop.example"] }) { http, _ throws in
            let ok = try await http.get("/", headers: ["Origin": "https://shop.example"])
            #expect(ok.header("Access-Control-Allow-Origin") == "https://shop.example")
            let error = try await http.get("/api/users/me", headers: ["Origin": "https://shop.example"])
            #expect(error.status == 401)
            #expect(error.header("Access-Control-Allow-Origin") == "https://shop.example")
        }
    }

    @Test("another origin gets no CORS headers")
    func corsRefused() async throws {
        try await withDeadGateway({ $0.corsOrigins = ["https://shop.example"] }) { http, _ throws in
            let reply = try await http.get("/", headers: ["Origin": "https://evil.example"])
            #expect(reply.header("Access-Control-Allow-Origin") == nil)
        }
    }

    @Test("a preflight from an allowed origin is answered 204 with the API's methods and headers")
    func preflight() async throws {
        try await withDeadGateway({ $0.corsOrigins = ["*"] }) { http, _ throws in
            let reply = try await http.request(.options, "/api/orders/", headers: [
                "Origin": "https://any.example", "Access-Control-Request-Method": "POST",
            ])
            #expect(reply.status == 204)
            #expect(reply.header("Access-Control-Allow-Origin") == "*")
            #expect(reply.header("Access-Control-Allow-Headers")?.contains("Authorization") == true)
            #expect(reply.header("Access-Control-Allow-Methods")?.contains("POST") == true)
        }
    }

    @Test("the access log line is JSON and holds no header values")
    func accessLogLine() throws {
        var facts = RequestRecord.Facts()
        facts.route = "/api/users/{id}"
        facts.userID = "u-1"
        facts.upstream = "user"
        facts.upstreamStatus = "OK"
        facts.attempts = 1
        let request = Request(
            head: HTTPRequest(method: .get, scheme: "http", authority: "x", path: "/api/users/u-1?secret=1", headerFields: [.authorization: "Bearer sensitive-token"]),
            body: RequestBody(buffer: ByteBuffer())
        )
        let entry = AccessLogEntry(request: request, status: 200, elapsed: .milliseconds(3), requestID: "r-1", facts: facts)
        let json = try RESTTranscoding.JSONParser.parse(Array(entry.json.utf8))
        #expect(json["status"] == .number("200"))
        #expect(json["path"] == .string("/api/users/u-1"))
        #expect(json["route"] == .string("/api/users/{id}"))
        #expect(json["user_id"] == .string("u-1"))
        #expect(!entry.json.contains("sensitive-token"))
        #expect(!entry.json.contains("secret"))
    }
}

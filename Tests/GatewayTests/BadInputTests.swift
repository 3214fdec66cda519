import Foundation
@testable import Gateway
import Hummingbird
import RESTTranscoding
import ShopAPI
import Testing

/// Requests that cannot become a request message are answered by the
/// gateway itself with the right 4xx, and never with a 500. The services
/// are down, so anything that got through would be a 503.
@Suite("Bad input")
struct BadInputTests {
    static let orderID = "33333333-3333-3333-3333-333333333333"

    @Test("a body that is not JSON is 400 INVALID_ARGUMENT")
    func malformedJSON() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.post("/api/users/", json: #"{"email": "a@b.c", "#)
            #expect(reply.status == 400)
            #expect(reply.code == "INVALID_ARGUMENT")
            #expect(reply.string("request_id") != nil)
        }
    }

    @Test("a field of the wrong type is 400 and names the field")
    func wrongType() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.post("/api/users/", json: #"{"email": 5, "full_name": "x", "password": "12345678"}"#)
            #expect(reply.status == 400)
            #expect(reply.string("detail")?.contains("email") == true)
        }
    }

    @Test("a body that is not an object is 400")
    func notAnObject() async throws {
        try await withDeadGateway { http, _ throws in
            #expect(try await http.post("/api/auth/login", json: "[1, 2, 3]").status == 400)
            #expect(try await http.post("/api/auth/login", json: "\"text\"").status == 400)
        }
    }

    @Test("a price with more than two decimals is 422")
    func priceDecimals() async throws {
        let admin = try await Tokens.valid(role: .admin)
        try await withDeadGateway { http, _ throws in
            let reply = try await http.post("/api/products/", token: admin, json: #"{"name":"x","price":1.999,"category":"c"}"#)
            #expect(reply.status == 422)
            #expect(reply.string("detail")?.contains("price") == true)
        }
    }

    @Test("an unknown order status is 422 listing the allowed ones")
    func unknownEnum() async throws {
        let admin = try await Tokens.valid(role: .admin)
        try await withDeadGateway { http, _ throws in
            let reply = try await http.put("/api/orders/\(Self.orderID)/status", token: admin, json: #"{"status":"teleported"}"#)
            #expect(reply.status == 422)
            #expect(reply.string("detail")?.contains("shipped") == true)
        }
    }

    @Test("a query parameter of the wrong type is 400")
    func badQuery() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/api/products/?skip=many")
            #expect(reply.status == 400)
            #expect(reply.string("detail")?.contains("skip") == true)
        }
    }

    @Test("a body over 1 MiB is 413")
    func hugeBody() async throws {
        try await withDeadGateway { http, _ throws in
            let filler = String(repeating: "a", count: 1_100_000)
            let reply = try await http.post("/api/users/", json: #"{"email":"a@b.c","full_name":"\#(filler)","password":"12345678"}"#)
            #expect(reply.status == 413)
            #expect(reply.code == "INVALID_ARGUMENT")
        }
    }

    @Test("the body limit is the configured one")
    func configuredLimit() async throws {
        try await withDeadGateway({ $0.bodyLimit = 64 }) { http, _ throws in
            let small = try await http.post("/api/auth/login", json: #"{"email":"a@b.c","password":"x"}"#)
            #expect(small.status == 503)
            let large = try await http.post("/api/auth/login", json: #"{"email":"a@b.c","password":"\#(String(repeating: "x", count: 100))"}"#)
            #expect(large.status == 413)
        }
    }

    @Test("a bad X-Request-Timeout is 400")
    func badTimeout() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/api/products/", headers: ["X-Request-Timeout": "soon"])
            #expect(reply.status == 400)
            #expect(reply.string("detail")?.contains("X-Request-Timeout") == true)
        }
    }

    @Test("an over-long Idempotency-Key is 400")
    func longIdempotencyKey() async throws {
        let user = try await Tokens.valid()
        try await withDeadGateway { http, _ throws in
            let reply = try await http.post("/api/orders/", token: user, json: #"{"items":[]}"#, headers: ["Idempotency-Key": String(repeating: "k", count: 300)])
            #expect(reply.status == 400)
        }
    }

    @Test("no hostile body on any route makes the gateway answer 500")
    func neverInternal() async throws {
        let admin = try await Tokens.valid(role: .admin)
        let bodies: [[UInt8]] = [
            Array("".utf8), Array("null".utf8), Array("{".utf8), Array("}".utf8), Array("{}}".utf8),
            Array(#"{"a":"#.utf8), Array(String(repeating: "[", count: 10_000).utf8),
            Array(#"{"items":[{"product_id":7,"quantity":"one"}]}"#.utf8),
            Array(#"{"price":1e999,"available":-1e400,"quantity":99999999999999999999}"#.utf8),
            Array(#"{"status":null,"role":"root","is_active":"yes","email":["x"]}"#.utf8),
            Array(#"{"name":"\ud800"}"#.utf8), [0xFF, 0xFE, 0x00, 0x7B], Array("\u{0}".utf8),
        ]
        try await withDeadGateway { http, _ throws in
            for route in ShopRoutes.routes where route.body != .none {
                for body in bodies {
                    let reply = try await http.request(
                        AuthOverHTTPTests.method(route),
                        AuthOverHTTPTests.concretePath(route, Self.orderID),
                        token: admin,
                        body: body
                    )
                    #expect(reply.status != 500, "\(route.verb.name) \(route.path) with \(body.prefix(40)): \(reply)")
                    #expect((400..<600).contains(reply.status) || reply.status == 503)
                }
            }
        }
    }

    @Test("a client that sends half a request and goes silent is disconnected after the idle timeout")
    func slowClientIsCut() async throws {
        try await withDeadGateway({ $0.idleTimeout = .milliseconds(300) }) { http, _ throws in
            let port = http.port
            let closedAfter = try await onOwnThread { () throws -> Duration in
                let descriptor = try RawSocket.connected(port: port)
                defer { close(descriptor) }
                let partial = Array("GET /api/products/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8)
                _ = partial.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, RawSocket.sendFlags) }
                let start = ContinuousClock.now
                var byte: UInt8 = 0
                // Blocks until the gateway closes the connection (0) or the 20 s receive timeout.
                let count = recv(descriptor, &byte, 1, 0)
                guard count == 0 else { throw RawSocket.Failure(description: "expected the connection closed, got \(count)") }
                return ContinuousClock.now - start
            }
            #expect(closedAfter < .seconds(5), "closed after \(closedAfter)")
            // The test client's own pooled connection was idle too, so a
            // fresh connection shows the gateway still serves.
            let status = try await onOwnThread { () throws -> Int in
                let connection = try StreamingHTTPConnection(port: port)
                try connection.sendRequest(path: "/", headers: [:])
                return try connection.readHead().status
            }
            #expect(status == 200)
        }
    }

    @Test("a request whose headers are huge is refused, never a 500, and the gateway keeps serving")
    func hugeHeaders() async throws {
        try await withDeadGateway { http, _ throws in
            let port = http.port
            let head = try await onOwnThread { () throws -> String in
                let connection = try StreamingHTTPConnection(port: port)
                try connection.sendRequest(path: "/", headers: ["X-Huge": String(repeating: "a", count: 200_000)])
                return try connection.read(through: "\r\n") ?? "closed"
            }
            #expect(!head.contains(" 500 ") && !head.contains(" 200 "), "\(head)")
            #expect(try await http.get("/").status == 200)
        }
    }
}

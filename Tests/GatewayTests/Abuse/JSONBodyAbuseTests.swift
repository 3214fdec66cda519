import Foundation
@testable import Gateway
import RESTTranscoding
import Testing

/// Issue 11, item 1: JSON bodies built to cost the parser quadratic time.
@Suite("Hostile JSON bodies over HTTP")
struct JSONBodyAbuseTests {
    /// `{"0":0,"1":0,...}` with `count` distinct keys, plus the login's
    /// fields: 100,000 keys are about 990 KB, inside the body limit.
    static func manyKeys(_ count: Int) -> String {
        var text = #"{"email":"someone@example.com","password":"whatever-it-is""#
        text.reserveCapacity(count * 10)
        for index in 0..<count { text += #","\#(index)":0"# }
        return text + "}"
    }

    @Test("a login body of 100,000 keys is refused with 413 naming the limit, while another client is served")
    func hundredThousandKeys() async throws {
        try await withShop { http throws in
            let body = Self.manyKeys(100_000)
            #expect(body.utf8.count > 900_000 && body.utf8.count < 1_048_576)
            let attack = Task {
                try await rawRequest(port: http.port, RawHTTPConnection.request("POST", "/api/auth/login", body: body))
            }
            // Another client, on its own connection, meanwhile.
            let other = try await rawRequest(port: http.port, from: "127.0.0.2", RawHTTPConnection.request("GET", "/api/products/"))
            #expect(other?.status == 200)

            let reply = try #require(try await attack.value)
            #expect(reply.status == 413)
            let json = try JSONParser.parse(Array(reply.body.utf8))
            #expect(json["code"] == .string("INVALID_ARGUMENT"))
            #expect(json["detail"]?.stringValue?.contains("more than 1000 members in one object") == true, "\(reply.body)")
            // And the gateway still serves the attacker's address too.
            #expect(try await http.get("/api/products/").status == 200)
        }
    }

    @Test("a body of more values than a document may hold is refused with 413")
    func tooManyValues() async throws {
        try await withShop { http throws in
            let items = Array(repeating: "0", count: 20_000).joined(separator: ",")
            let reply = try await http.post("/api/auth/login", json: #"{"email":"a@example.com","password":"x","pad":[\#(items)]}"#)
            #expect(reply.status == 413)
            #expect(reply.string("detail")?.contains("more than 10000 values") == true)
        }
    }
}

import Foundation
@testable import Gateway
import Testing

/// Issue 11, item 5: lengths counted in characters, and emails compared
/// without Unicode normalization.
@Suite("Text sizes and email normalization over HTTP")
struct TextSizeAbuseTests {
    /// One letter and 480,000 combining acute accents: one character of
    /// about 960 KB of UTF-8.
    static let oneHugeCharacter = "a" + String(repeating: "\u{0301}", count: 480_000)

    @Test("a full name of one letter and 480,000 combining accents is refused with 422 naming the field")
    func combiningAccentsName() async throws {
        #expect(Self.oneHugeCharacter.count == 1)
        try await withShop { http throws in
            let reply = try await http.post(
                "/api/users/",
                json: #"{"email":"\#(Shop.newEmail())","full_name":"\#(Self.oneHugeCharacter)","password":"\#(Shop.password)"}"#
            )
            #expect(reply.status == 422)
            #expect(reply.string("detail")?.hasPrefix("full_name:") == true)
            #expect(reply.string("detail")?.contains("bytes") == true)
        }
    }

    @Test("a product description of one huge character is refused with 422")
    func combiningAccentsDescription() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let reply = try await http.post(
                "/api/products/",
                token: admin,
                json: #"{"name":"Teapot","description":"\#(Self.oneHugeCharacter)","price":1.00,"category":"kitchen"}"#
            )
            #expect(reply.status == 422)
            #expect(reply.string("detail")?.hasPrefix("description:") == true)
        }
    }

    @Test("two emails differing only in Unicode normalization are the same account")
    func normalizedEmails() async throws {
        try await withShop { http throws in
            let local = "zo\u{00EB}-\(UUID().uuidString.prefix(8).lowercased())"
            let composed = "\(local)@example.com"
            let decomposed = composed.decomposedStringWithCanonicalMapping
            #expect(Array(composed.utf8) != Array(decomposed.utf8))
            _ = try await http.register(email: composed)
            let second = try await http.post("/api/users/", json: #"{"email":"\#(decomposed)","full_name":"Zoe","password":"\#(Shop.password)"}"#)
            #expect(second.status == 409)
            // Logging in with either spelling finds the one account.
            _ = try await http.login(decomposed)
            _ = try await http.login(composed)
        }
    }
}

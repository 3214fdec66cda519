import CompressNIO
@testable import Gateway
import Hummingbird
import Testing

/// gzip and deflate at the gateway: large responses compressed when the
/// client asks, compressed request bodies accepted within the body limit
/// measured after inflating.
@Suite("Compression")
struct CompressionTests {
    static func inflate(_ bytes: [UInt8], _ coding: ContentCoding) throws -> String {
        var buffer = ByteBuffer(bytes: bytes)
        return String(buffer: try buffer.decompress(with: coding.algorithm))
    }

    static func deflate(_ text: String, _ coding: ContentCoding = .gzip) throws -> [UInt8] {
        var buffer = ByteBuffer(string: text)
        return Array(try buffer.compress(with: coding.algorithm).readableBytesView)
    }

    /// A shop whose catalog lists well over a kilobyte.
    static func withLargeCatalog(_ body: @escaping @Sendable (HTTP) async throws -> Void) async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            for index in 0..<12 {
                let description = String(repeating: "A sturdy teapot, glazed by hand. ", count: 4)
                let created = try await http.post(
                    "/api/products/", token: admin,
                    json: #"{"name":"Teapot \#(index)","description":"\#(description)","price":19.99,"category":"kitchen"}"#
                )
                #expect(created.status == 201, "\(created)")
            }
            try await body(http)
        }
    }

    @Test(arguments: [ContentCoding.gzip, .deflate])
    func aLargeListIsCompressedWhenAskedAndInflatesToTheSameJSON(_ coding: ContentCoding) async throws {
        try await Self.withLargeCatalog { http in
            let plain = try await http.get("/api/products/")
            #expect(plain.status == 200)
            #expect(plain.header("Content-Encoding") == nil)
            #expect(plain.header("Vary") == "Accept-Encoding")
            #expect(plain.body.utf8.count > 1024)

            let compressed = try await http.get("/api/products/", headers: ["Accept-Encoding": coding.rawValue])
            #expect(compressed.status == 200)
            #expect(compressed.header("Content-Encoding") == coding.rawValue)
            #expect(compressed.bytes.count < plain.body.utf8.count / 2, "\(compressed.bytes.count) of \(plain.body.utf8.count)")
            #expect(try Self.inflate(compressed.bytes, coding) == plain.body)
        }
    }

    @Test func gzipIsPreferredAndQZeroRefusesACoding() {
        #expect(ContentCoding.preferred(byAcceptEncoding: "deflate, gzip;q=0.5") == .gzip)
        #expect(ContentCoding.preferred(byAcceptEncoding: "gzip;q=0, deflate") == .deflate)
        #expect(ContentCoding.preferred(byAcceptEncoding: "br") == nil)
        #expect(ContentCoding.preferred(byAcceptEncoding: "*") == .gzip)
        #expect(ContentCoding.preferred(byAcceptEncoding: "") == nil)
    }

    @Test func aSmallResponseIsNotCompressedEvenWhenAsked() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/", headers: ["Accept-Encoding": "gzip"])
            #expect(reply.status == 200)
            #expect(reply.header("Content-Encoding") == nil)
            #expect(reply.string("message") == "API Gateway is running")
        }
    }

    @Test func anEventStreamIsNeverCompressedEvenWhenAsked() async throws {
        try await withShop({ $0.compression.minimumResponseBytes = 1 }) { http throws in
            let (_, user, orderID) = try await EventStreamTests().placedOrder(http)
            let connection = try StreamingHTTPConnection(port: http.port)
            defer { connection.hangUp() }
            try connection.sendRequest(
                path: "/api/orders/\(orderID)/events",
                headers: ["Authorization": "Bearer \(user)", "Accept": "text/event-stream", "Accept-Encoding": "gzip"]
            )
            let head = try await onOwnThread { try connection.readHead() }
            #expect(head.status == 200)
            #expect(head.headers["content-encoding"] == nil)
            let first = try #require(try await onOwnThread { try connection.readEvent() })
            #expect(first.event == "order")
        }
    }

    @Test func aGzipRequestBodyIsInflatedBeforeItIsRead() async throws {
        try await withDeadGateway { http, _ throws in
            let notJSON = try await http.request(
                .post, "/api/auth/login", body: try Self.deflate("{not json"), headers: ["Content-Encoding": "gzip"]
            )
            #expect(notJSON.status == 400, "\(notJSON)")
            #expect(notJSON.string("detail")?.contains("gzip") == false, "the inflated body was not read as JSON: \(notJSON)")

            let valid = try await http.request(
                .post, "/api/auth/login", body: try Self.deflate(#"{"email":"a@example.com","password":"correct horse"}"#),
                headers: ["Content-Encoding": "gzip"]
            )
            // Read and sent on: the user service is down.
            #expect(valid.status == 503, "\(valid)")
        }
    }

    @Test func aDecompressionBombIsRefusedWith413() async throws {
        try await withDeadGateway({ $0.bodyLimit = 64 * 1024 }) { http, _ throws in
            let bomb = try Self.deflate(String(repeating: " ", count: 8 * 1024 * 1024))
            #expect(bomb.count < 16 * 1024)
            let reply = try await http.request(.post, "/api/auth/login", body: bomb, headers: ["Content-Encoding": "gzip"])
            #expect(reply.status == 413, "\(reply)")
            #expect(reply.string("detail")?.contains("inflates to more than 65536 bytes") == true)
            #expect(try await http.get("/").status == 200)
        }
    }

    @Test func aBodyThatIsNotGzipIsA400AndAnUnknownCodingA415() async throws {
        try await withDeadGateway { http, _ throws in
            let corrupt = try await http.request(.post, "/api/auth/login", body: Array("plain text".utf8), headers: ["Content-Encoding": "gzip"])
            #expect(corrupt.status == 400, "\(corrupt)")
            let brotli = try await http.request(.post, "/api/auth/login", json: "{}", headers: ["Content-Encoding": "br"])
            #expect(brotli.status == 415, "\(brotli)")
        }
    }
}

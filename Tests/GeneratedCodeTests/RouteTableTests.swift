import FrameRPC
import Foundation
import RESTTranscoding
import SwiftProtobuf
import Testing

@Suite("Generated route table")
struct RouteTableTests {
    @Test("every annotated method has exactly one route, and unannotated ones none")
    func routesMatchAnnotations() {
        let routes = DemoRoutes.routes.map { "\($0.verb.name) \($0.path)" }
        #expect(routes == [
            "POST /api/books/",
            "GET /api/books/{id}",
            "GET /api/books/",
            "PUT /api/books/{id}",
            "DELETE /api/books/{id}",
            "GET /api/books/{id}/events",
        ])
        #expect(!DemoRoutes.routes.contains { $0.method == LibraryMethod.ping })
    }

    @Test("routes carry the annotation's body, status, auth, idempotency and deadline")
    func routeDetails() throws {
        let create = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.createBook })
        #expect(create.body == .field("book"))
        #expect(create.successStatus == 201)
        #expect(create.auth == .admin)
        #expect(create.defaultDeadline == .milliseconds(2000))
        #expect(!create.idempotent)

        let rename = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.renameBook })
        #expect(rename.auth == .owner(field: "owner_id"))
        #expect(rename.pathVariables == ["id"])
        #expect(rename.body == .all)

        let list = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.listBooks })
        #expect(list.query.map(\.name) == ["skip", "limit", "genre", "tags", "filter.author_name", "filter.in_print"])
        #expect(list.query.first { $0.name == "tags" }?.repeated == true)
        #expect(list.idempotent)
        #expect(list.responseBody == "books")
        #expect(create.responseBody == nil)

        let watch = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.watchBook })
        #expect(watch.isStreaming)
    }

    @Test("shapes describe money, enums, timestamps and nested messages")
    func shapes() throws {
        let book = try #require(DemoRoutes.shapes["demo.library.v1.Book"])
        #expect(book.fieldsByName["price"]?.kind == .money)
        #expect(book.fieldsByName["copies_sold"]?.kind == .int64)
        #expect(book.fieldsByName["genre"]?.kind == .enumeration(prefix: "GENRE_", values: ["unspecified", "fiction", "history"]))
        #expect(book.fieldsByName["published_at"]?.kind == .timestamp)
        #expect(book.fieldsByName["author"]?.kind == .message("demo.library.v1.Author"))
        #expect(book.fieldsByName["tags"]?.repeated == true)
        #expect(DemoRoutes.shapes["demo.library.v1.Author"] != nil)
    }

    @Test("a route's call sends canonical JSON through the real client and returns JSON")
    func routeCallOverConnection() async throws {
        try await withLibrary { _, rpc throws in
            let create = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.createBook })
            guard case .unary(let call) = create.call else { Issue.record("unary expected"); return }
            let body = Data(#"{"book": {"title": "Beloved", "genre": "GENRE_FICTION", "price": "2550"}, "ignored": 1}"#.utf8)
            let json = try await call(rpc, body, CallOptions(timeout: .seconds(5)))
            let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            #expect(object["title"] as? String == "Beloved")
            #expect(object["genre"] as? String == "GENRE_FICTION")
            #expect(object["price"] as? Int == 2550)

            let watch = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.watchBook })
            guard case .serverStreaming(let stream) = watch.call else { Issue.record("streaming expected"); return }
            let id = try #require(object["id"] as? String)
            let received = Received()
            try await stream(rpc, Data(#"{"id": "\#(id)", "updates": 2}"#.utf8), .defaults) { chunk in
                received.append(chunk)
            }
            #expect(received.count == 3)
        }
    }

    @Test("the OpenAPI document lists exactly the routes of the table")
    func openAPIMatchesRoutes() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(DemoRoutes.openAPIDocument.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.0.3")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
        let served = Set(DemoRoutes.routes.map { "\($0.verb.name) \($0.path)" })
        #expect(documented == served)
    }
}

/// Collects streamed chunks from a `@Sendable` callback.
final class Received: Sendable {
    private let chunks = Mutex<[Data]>([])
    func append(_ chunk: Data) { chunks.withLock { $0.append(chunk) } }
    var count: Int { chunks.withLock { $0.count } }
}

import Synchronization

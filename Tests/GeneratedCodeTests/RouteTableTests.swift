import FrameRPC
import Foundation
import NIOCore
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

    @Test("routes name their request's top-level fields (the password guard looks for one)")
    func requestFields() throws {
        let create = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.createBook })
        #expect(create.requestFields == ["book"])
        let rename = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.renameBook })
        #expect(rename.requestFields == ["id", "title", "owner_id"])
    }

    @Test("a built request exposes its string fields by proto path, empty ones as nil")
    func stringFields() throws {
        let rename = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.renameBook })
        let call = try rename.prepare(RESTRequestInput(pathValues: ["id": "b1"], body: ByteBuffer(string: #"{"owner_id": "u-1"}"#)))
        #expect(call.string("owner_id") == "u-1")
        #expect(call.string("id") == "b1")
        #expect(call.string("title") == nil)
        #expect(call.string("nonexistent") == nil)
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

import FrameRPC
import Foundation
import NIOCore
import RESTTranscoding
import SwiftProtobuf
import Testing

/// The generated typed transcoding of the demo library: request messages
/// built from path, query and body; responses written from the typed message.
@Suite("REST transcoding")
struct RESTTranscoderTests {
    static func route(_ method: String) throws -> RESTRoute {
        try #require(DemoRoutes.routes.first { $0.method == method })
    }

    /// The typed request `method`'s route builds.
    static func request<Message: RESTMessage>(
        _ method: String,
        as type: Message.Type,
        path: [String: String] = [:],
        query: [(name: String, value: String)] = [],
        body: String? = nil
    ) throws -> Message {
        let call = try route(method).prepare(RESTRequestInput(pathValues: path, query: query, body: body.map { ByteBuffer(string: $0) }))
        return try #require(call.message as? Message)
    }

    /// The error `method`'s route answers the input with.
    static func failure(_ method: String, query: [(name: String, value: String)] = [], body: String? = nil) throws -> TranscodingError? {
        do {
            _ = try route(method).prepare(RESTRequestInput(query: query, body: body.map { ByteBuffer(string: $0) }))
            return nil
        } catch let error as TranscodingError {
            return error
        }
    }

    static func rest(_ message: some RESTMessage) -> String {
        var writer = RESTWriter()
        message.writeREST(to: &writer)
        return String(buffer: writer.buffer)
    }

    @Test("a REST body becomes a request message: decimal money to cents, lower-case enums, unknown fields ignored")
    func bodyToMessage() throws {
        let request = try Self.request(
            LibraryMethod.createBook,
            as: Demo_Library_V1_CreateBookRequest.self,
            body: #"{"title": "Dune", "genre": "fiction", "price": 19.99, "tags": ["sf"], "author": {"name": "Frank"}, "unknown": {"x": [null]}}"#
        )
        #expect(request.book.title == "Dune")
        #expect(request.book.genre == .fiction)
        #expect(request.book.price == 1999)
        #expect(request.book.tags == ["sf"])
        #expect(request.book.author.name == "Frank")
    }

    @Test("three times 19.99 is exactly 59.97: money never passes through floating point")
    func moneyIsExact() throws {
        #expect(try RESTRead.cents("19.99", at: "price") == 1999)
        #expect(try RESTRead.cents("0.1", at: "price") == 10)
        #expect(try RESTRead.cents("5", at: "price") == 500)
        #expect(try RESTRead.cents("-0.5", at: "price") == -50)
        let price = try Self.request(LibraryMethod.createBook, as: Demo_Library_V1_CreateBookRequest.self, body: #"{"price": 19.99}"#).book.price
        let book = Demo_Library_V1_Book.with { $0.price = 3 * price }
        #expect(Self.rest(book).contains(#""price":59.97"#))
        #expect(Self.rest(Demo_Library_V1_Book.with { $0.price = -50 }).contains(#""price":-0.50"#))
    }

    @Test("a price with more than two decimals is a validation error (422)")
    func threeDecimals() throws {
        let error = try Self.failure(LibraryMethod.createBook, body: #"{"price": 1.999}"#)
        #expect(error == TranscodingError(.invalid, "book.price: must have at most two decimals"))
        #expect(error?.httpStatus == 422)
    }

    @Test("a price in exponent form is a wrong type (400), not a rounded number")
    func exponentPrice() throws {
        #expect(try Self.failure(LibraryMethod.createBook, body: #"{"price": 1e2}"#) == TranscodingError(.wrongType, "book.price: must be a decimal number like 19.99"))
    }

    @Test("a wrong JSON type is a 400 naming the field")
    func wrongType() throws {
        let error = try Self.failure(LibraryMethod.createBook, body: #"{"title": 5}"#)
        #expect(error?.httpStatus == 400)
        #expect(error?.message == "book.title: must be a string")
    }

    @Test("a known field given as null is a wrong type; an unknown one is ignored")
    func nullField() throws {
        #expect(try Self.failure(LibraryMethod.createBook, body: #"{"title": null}"#) == TranscodingError(.wrongType, "book.title: must be a value, not null (leave the field out instead)"))
        #expect(try Self.failure(LibraryMethod.createBook, body: #"{"tags": ["a", null]}"#) == TranscodingError(.wrongType, "book.tags[1]: must be a value, not null"))
        #expect(try Self.failure(LibraryMethod.createBook, body: #"{"whatever": null}"#) == nil)
    }

    @Test("a body that is not an object, for a route whose body is the message, is a 400")
    func bodyNotAnObject() throws {
        #expect(try Self.failure(LibraryMethod.renameBook, body: "[1]") == TranscodingError(.wrongType, "the body must be a JSON object"))
    }

    @Test("malformed JSON is a 400 with the byte offset")
    func malformed() throws {
        let error = try #require(try Self.failure(LibraryMethod.renameBook, body: #"{"title": "#))
        #expect(error.kind == .malformed)
        #expect(error.httpStatus == 400)
        #expect(error.message.contains("malformed JSON at byte"))
    }

    @Test("JSON over the parser's limits is a 413")
    func tooLarge() throws {
        let members = (0..<2_000).map { "\"k\($0)\": 1" }.joined(separator: ",")
        #expect(try Self.failure(LibraryMethod.renameBook, body: "{\(members)}")?.httpStatus == 413)
    }

    @Test("an unknown enum name is a 422 listing the allowed ones; any case of a known one is accepted")
    func enumNames() throws {
        let error = try Self.failure(LibraryMethod.listBooks, query: [("genre", "poetry")])
        #expect(error?.httpStatus == 422)
        #expect(error?.message == "genre: must be one of fiction, history")
        #expect(try Self.failure(LibraryMethod.listBooks, query: [("genre", "unspecified")])?.httpStatus == 422)
        let book = try Self.request(LibraryMethod.createBook, as: Demo_Library_V1_CreateBookRequest.self, body: #"{"genre": "FICTION"}"#).book
        #expect(book.genre == .fiction)
        #expect(Self.rest(book).contains(#""genre":"fiction""#))
    }

    @Test("query parameters fill scalars, repeated and nested fields; the last of a repeated single value wins; path beats query beats body")
    func queryAndPath() throws {
        let list = try Self.request(
            LibraryMethod.listBooks,
            as: Demo_Library_V1_ListBooksRequest.self,
            query: [("skip", "1"), ("skip", "10"), ("limit", "5"), ("genre", "HISTORY"), ("tags", "a"), ("tags", "b"), ("filter.in_print", "true"), ("filter.author_name", "Eliot"), ("other", "x")]
        )
        #expect(list.skip == 10 && list.limit == 5)
        #expect(list.genre == .history)
        #expect(list.tags == ["a", "b"])
        #expect(list.filter.inPrint)
        #expect(list.filter.authorName == "Eliot")

        let renamed = try Self.request(
            LibraryMethod.renameBook,
            as: Demo_Library_V1_RenameBookRequest.self,
            path: ["id": "from-path"],
            body: #"{"id": "from-body", "title": "T"}"#
        )
        #expect(renamed.id == "from-path")
        #expect(renamed.title == "T")
    }

    @Test("a query value of the wrong type is a 400, one out of range a 422")
    func badQueryValue() throws {
        #expect(try Self.failure(LibraryMethod.listBooks, query: [("skip", "ten")]) == TranscodingError(.wrongType, "skip: must be an integer"))
        #expect(try Self.failure(LibraryMethod.listBooks, query: [("skip", "99999999999")]) == TranscodingError(.invalid, "skip: 99999999999 is out of range"))
        #expect(try Self.failure(LibraryMethod.listBooks, query: [("filter.in_print", "maybe")]) == TranscodingError(.wrongType, "filter.in_print: must be true or false"))
    }

    @Test("timestamps are RFC 3339 both ways, offsets accepted, fractions kept to 3, 6 or 9 digits")
    func timestamps() throws {
        let book = try Self.request(LibraryMethod.createBook, as: Demo_Library_V1_CreateBookRequest.self, body: #"{"published_at": "2026-12-01T16:04:05.25+01:00"}"#).book
        #expect(book.publishedAt.seconds == 1_796_137_445)
        #expect(book.publishedAt.nanos == 250_000_000)
        #expect(Self.rest(book).contains(#""published_at":"2026-12-01T15:04:05.250Z""#))
        let early = Demo_Library_V1_Book.with { $0.publishedAt = .with { $0.seconds = -1; $0.nanos = 1 } }
        #expect(Self.rest(early).contains(#""published_at":"1969-12-31T23:59:59.000000001Z""#))
        #expect(try Self.failure(LibraryMethod.createBook, body: #"{"published_at": "yesterday"}"#)?.httpStatus == 400)
        #expect(try Self.failure(LibraryMethod.createBook, body: #"{"published_at": "2026-02-30T00:00:00Z"}"#)?.httpStatus == 400)
    }

    @Test("a response has every field in declaration order: defaults filled, money as a decimal, enums in lower case; an unset message or timestamp is left out")
    func responseHasEveryField() {
        let book = Demo_Library_V1_Book.with { $0.id = "b1"; $0.price = 1050; $0.genre = .history }
        #expect(Self.rest(book) == #"{"id":"b1","title":"","genre":"history","price":10.50,"tags":[],"copies_sold":0}"#)
        #expect(Self.rest(Demo_Library_V1_Book()).contains(#""genre":"unspecified""#))
        let withAuthor = Demo_Library_V1_Book.with { $0.author = .init(); $0.copiesSold = -3 }
        #expect(Self.rest(withAuthor).contains(#""author":{"name":"","country":""},"copies_sold":-3"#))
    }

    @Test("strings are escaped as JSON requires, and nothing else")
    func stringEscapes() {
        let book = Demo_Library_V1_Book.with { $0.title = "a\"b\\c\u{01}\n\té" }
        #expect(Self.rest(book).contains(#""title":"a\"b\\c\u0001\n\té""#))
    }

    @Test("a route's invocation calls the service over a real connection: a response_body field is sent alone, a stream per message")
    func invocationOverConnection() async throws {
        try await withLibrary { _, rpc throws in
            let create = try Self.route(LibraryMethod.createBook)
            var ids: [String] = []
            for title in ["Beloved", "Jazz"] {
                guard case .unary(let call) = try create.prepare(RESTRequestInput(body: ByteBuffer(string: #"{"title": "\#(title)", "genre": "fiction", "price": 25.50}"#))).invocation else {
                    Issue.record("unary expected")
                    return
                }
                let created = try JSONParser.parse(Array(buffer: try await call(rpc, CallOptions(timeout: .seconds(5))).body))
                #expect(created["price"] == .number("25.50"))
                #expect(created["genre"] == .string("fiction"))
                if case .string(let id)? = created["id"] { ids.append(id) }
            }

            let list = try Self.route(LibraryMethod.listBooks)
            guard case .unary(let listCall) = try list.prepare(RESTRequestInput(query: [("genre", "fiction")])).invocation else {
                Issue.record("unary expected")
                return
            }
            let listed = try await listCall(rpc, CallOptions(timeout: .seconds(5)))
            guard case .array(let books) = try JSONParser.parse(Array(buffer: listed.body)) else {
                Issue.record("a bare array expected")
                return
            }
            #expect(books.map { $0["title"] } == [.string("Beloved"), .string("Jazz")])
            #expect(listed.nextPageToken == nil)

            let watch = try Self.route(LibraryMethod.watchBook)
            guard case .serverStreaming(let stream) = try watch.prepare(RESTRequestInput(pathValues: ["id": ids[0]], query: [("updates", "2")])).invocation else {
                Issue.record("streaming expected")
                return
            }
            let received = Received()
            try await stream(rpc, CallOptions(timeout: .seconds(5))) { chunk in
                received.append(Data(chunk.readableBytesView))
            }
            #expect(received.count == 3)
        }
    }
}

@Suite("JSON parser")
struct JSONParserTests {
    @Test("valid JSON parses with numbers kept as written")
    func valid() throws {
        let value = try JSONParser.parse(Array(#"{"a": [1, 2.50, -3e2], "b": "x\u00e9\n", "c": null, "d": true}"#.utf8))
        #expect(value["a"] == .array([.number("1"), .number("2.50"), .number("-3e2")]))
        #expect(value["b"] == .string("xé\n"))
        #expect(value["c"] == .null)
        #expect(value["d"] == .bool(true))
    }

    @Test("malformed inputs are refused", arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"unterminated", "nul", "{} x", "\"\\x\""])
    func malformed(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("nesting beyond the depth limit is refused, not a stack overflow")
    func depthLimit() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(deep.utf8)) }
    }

    @Test("serializing then parsing gives the same value")
    func roundTrip() throws {
        let value = JSONValue.object([("q", .string("a\"b\\c\u{01}")), ("n", .number("19.99")), ("l", .array([.bool(false), .null]))])
        #expect(try JSONParser.parse(value.serialized) == value)
    }
}

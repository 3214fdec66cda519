import Foundation
import RESTTranscoding
import SwiftProtobuf
import Testing

@Suite("REST transcoding")
struct RESTTranscoderTests {
    let transcoder = RESTTranscoder(shapes: DemoRoutes.shapes)

    func route(_ method: String) throws -> RESTRoute {
        try #require(DemoRoutes.routes.first { $0.method == method })
    }

    func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("a REST body becomes a request message: decimal money to cents, lower-case enums to proto names")
    func bodyToMessage() throws {
        let proto = try transcoder.request(
            for: route(LibraryMethod.createBook),
            pathValues: [:],
            query: [],
            body: json(#"{"title": "Dune", "genre": "fiction", "price": 19.99, "tags": ["sf"], "author": {"name": "Frank"}, "unknown": true}"#)
        )
        let request = try Demo_Library_V1_CreateBookRequest(jsonUTF8Bytes: proto, options: RESTRoute.decodingOptions)
        #expect(request.book.title == "Dune")
        #expect(request.book.genre == .fiction)
        #expect(request.book.price == 1999)
        #expect(request.book.tags == ["sf"])
        #expect(request.book.author.name == "Frank")
    }

    @Test("three times 19.99 is exactly 59.97: money never passes through floating point")
    func moneyIsExact() throws {
        #expect(try RESTTranscoderTests.cents("19.99") == 1999)
        #expect(try RESTTranscoderTests.cents("0.1") == 10)
        #expect(try RESTTranscoderTests.cents("5") == 500)
        let total = 3 * (try RESTTranscoderTests.cents("19.99"))
        let book = Demo_Library_V1_Book.with { $0.price = total }
        let rest = try transcoder.response(for: route(LibraryMethod.getBook), protoJSON: Array(book.jsonUTF8Data(options: RESTRoute.encodingOptions)))
        #expect(String(decoding: rest, as: UTF8.self).contains(#""price":59.97"#))
    }

    static func cents(_ text: String) throws -> Int64 {
        let transcoder = RESTTranscoder(shapes: DemoRoutes.shapes)
        let route = DemoRoutes.routes.first { $0.method == LibraryMethod.createBook }!
        let proto = try transcoder.request(for: route, pathValues: [:], query: [], body: Array(#"{"price": \#(text)}"#.utf8))
        return try Demo_Library_V1_CreateBookRequest(jsonUTF8Bytes: proto, options: RESTRoute.decodingOptions).book.price
    }

    @Test("a price with more than two decimals is a validation error (422)")
    func threeDecimals() throws {
        #expect(throws: TranscodingError(.invalid, "book.price: must have at most two decimals")) {
            try transcoder.request(for: route(LibraryMethod.createBook), pathValues: [:], query: [], body: json(#"{"price": 1.999}"#))
        }
    }

    @Test("a wrong JSON type is a 400 naming the field")
    func wrongType() throws {
        do {
            _ = try transcoder.request(for: route(LibraryMethod.createBook), pathValues: [:], query: [], body: json(#"{"title": 5}"#))
            Issue.record("expected an error")
        } catch let error as TranscodingError {
            #expect(error.httpStatus == 400)
            #expect(error.message == "book.title: must be a string")
        }
    }

    @Test("malformed JSON is a 400 with the byte offset")
    func malformed() throws {
        do {
            _ = try transcoder.request(for: route(LibraryMethod.renameBook), pathValues: ["id": "b1"], query: [], body: json(#"{"title": "#))
            Issue.record("expected an error")
        } catch let error as TranscodingError {
            #expect(error.kind == .malformed)
            #expect(error.httpStatus == 400)
            #expect(error.message.contains("malformed JSON at byte"))
        }
    }

    @Test("an unknown enum name is a 422 listing the allowed ones")
    func unknownEnum() throws {
        do {
            _ = try transcoder.request(for: route(LibraryMethod.listBooks), pathValues: [:], query: [("genre", "poetry")], body: nil)
            Issue.record("expected an error")
        } catch let error as TranscodingError {
            #expect(error.httpStatus == 422)
            #expect(error.message == "genre: must be one of fiction, history")
        }
    }

    @Test("query parameters fill scalars, repeated and nested fields; path variables win over the body")
    func queryAndPath() throws {
        let list = try transcoder.request(
            for: route(LibraryMethod.listBooks),
            pathValues: [:],
            query: [("skip", "10"), ("limit", "5"), ("genre", "HISTORY"), ("tags", "a"), ("tags", "b"), ("filter.in_print", "true"), ("other", "x")],
            body: nil
        )
        let request = try Demo_Library_V1_ListBooksRequest(jsonUTF8Bytes: list, options: RESTRoute.decodingOptions)
        #expect(request.skip == 10 && request.limit == 5)
        #expect(request.genre == .history)
        #expect(request.tags == ["a", "b"])
        #expect(request.filter.inPrint)

        let rename = try transcoder.request(for: route(LibraryMethod.renameBook), pathValues: ["id": "from-path"], query: [], body: json(#"{"id": "from-body", "title": "T"}"#))
        let renamed = try Demo_Library_V1_RenameBookRequest(jsonUTF8Bytes: rename, options: RESTRoute.decodingOptions)
        #expect(renamed.id == "from-path")
        #expect(renamed.title == "T")
    }

    @Test("a query value of the wrong type is a 400")
    func badQueryValue() throws {
        #expect(throws: TranscodingError(.wrongType, "skip: must be an integer")) {
            try transcoder.request(for: route(LibraryMethod.listBooks), pathValues: [:], query: [("skip", "ten")], body: nil)
        }
    }

    @Test("responses have every field: defaults filled, money as a decimal, enums in lower case; an unset message is left out, not null")
    func responseHasEveryField() throws {
        let book = Demo_Library_V1_Book.with { $0.id = "b1"; $0.price = 1050; $0.genre = .history }
        let rest = try transcoder.response(for: route(LibraryMethod.getBook), protoJSON: Array(book.jsonUTF8Data(options: RESTRoute.encodingOptions)))
        let value = try JSONParser.parse(rest)
        #expect(value["id"] == .string("b1"))
        #expect(value["title"] == .string(""))
        #expect(value["price"] == .number("10.50"))
        #expect(value["genre"] == .string("history"))
        #expect(value["tags"] == .array([]))
        #expect(value["copies_sold"] == .number("0"))
        #expect(value["author"] == nil)
    }

    @Test("a route's response_body field is sent alone")
    func responseBodyField() throws {
        let response = Demo_Library_V1_ListBooksResponse.with { $0.books = [.with { $0.id = "a" }, .with { $0.id = "b" }] }
        let rest = try transcoder.response(for: route(LibraryMethod.listBooks), protoJSON: Array(response.jsonUTF8Data(options: RESTRoute.encodingOptions)))
        guard case .array(let books) = try JSONParser.parse(rest) else { Issue.record("expected an array"); return }
        #expect(books.map { $0["id"] } == [.string("a"), .string("b")])
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

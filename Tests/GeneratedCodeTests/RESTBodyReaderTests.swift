import NIOCore
import RESTTranscoding
import Testing

/// The streaming reader request bodies are read with (issue 13): the
/// parser's limits, strict JSON and the error classes, checked on the
/// reader itself and through the demo library's generated body readers.
@Suite("RESTTranscoding body reader")
struct RESTBodyReaderTests {
    /// The error the create-book route (`body: "book"`) answers `body` with.
    static func createBookFailure(_ body: String) throws -> TranscodingError? {
        try createBookFailure(ByteBuffer(string: body))
    }

    static func createBookFailure(_ body: ByteBuffer) throws -> TranscodingError? {
        let route = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.createBook })
        do {
            _ = try route.prepare(RESTRequestInput(body: body))
            return nil
        } catch let error as TranscodingError {
            return error
        }
    }

    /// The book the create-book route reads from `body`.
    static func book(_ body: String) throws -> Demo_Library_V1_Book {
        let route = try #require(DemoRoutes.routes.first { $0.method == LibraryMethod.createBook })
        let call = try route.prepare(RESTRequestInput(body: ByteBuffer(string: body)))
        return try #require(call.message as? Demo_Library_V1_CreateBookRequest).book
    }

    /// What `read` makes of `text`, a whole document, or its error.
    static func read<Value>(_ text: String, _ read: (inout RESTBodyReader) throws(TranscodingError) -> Value) -> Result<Value, TranscodingError> {
        do throws(TranscodingError) {
            let value = try RESTBodyReader.read(ByteBuffer(string: text)) { (reader: inout RESTBodyReader) throws(TranscodingError) -> Value in
                let value = try read(&reader)
                try reader.finish()
                return value
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    static func kind<Value>(_ result: Result<Value, TranscodingError>) -> TranscodingError.Kind? {
        if case .failure(let error) = result { return error.kind }
        return nil
    }

    // MARK: Limits

    @Test("values of an unknown member count against the values limit: 413")
    func unknownValuesCount() throws {
        let values = Array(repeating: "1", count: 10_001).joined(separator: ",")
        let failure = try Self.createBookFailure(#"{"title": "Dune", "unknown": [\#(values)]}"#)
        #expect(failure?.kind == .tooLarge)
        #expect(failure?.message.contains("more than 10000 values in one document") == true)
    }

    @Test("members of unknown names count against the members limit, repeated names too: 413")
    func unknownMembersCount() throws {
        let distinct = (0..<1_001).map { #""k\#($0)":0"# }.joined(separator: ",")
        #expect(try Self.createBookFailure("{\(distinct)}")?.kind == .tooLarge)
        let repeated = Array(repeating: #""title":"x""#, count: 1_001).joined(separator: ",")
        #expect(try Self.createBookFailure("{\(repeated)}")?.kind == .tooLarge)
        let underLimit = Array(repeating: #""title":"x""#, count: 1_000).joined(separator: ",")
        #expect(try Self.createBookFailure("{\(underLimit)}") == nil)
    }

    @Test("nesting of a million brackets in an unknown member is refused with 413, not a stack overflow")
    func deepNestingRefused() throws {
        let deep = String(repeating: "[", count: 1_000_000)
        let failure = try Self.createBookFailure(#"{"unknown": \#(deep)"#)
        #expect(failure?.kind == .tooLarge)
        #expect(failure?.message.contains("nested deeper than 64 levels") == true)
        let deepObjects = String(repeating: #"{"author":"#, count: 100_000)
        #expect(try Self.createBookFailure(deepObjects)?.kind == .tooLarge)
    }

    @Test("64 nested containers are read; the 65th is over the limit")
    func depthEdge() {
        let allowed = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let refused = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let skipAllowed = Self.read(allowed) { (reader: inout RESTBodyReader) throws(TranscodingError) in try reader.skipValue() }
        let skipRefused = Self.read(refused) { (reader: inout RESTBodyReader) throws(TranscodingError) in try reader.skipValue() }
        #expect(Self.kind(skipAllowed) == nil)
        #expect(Self.kind(skipRefused) == .tooLarge)
    }

    @Test("a field error is answered as over a limit when the rest of the document is over one")
    func limitBeatsFieldError() throws {
        let values = Array(repeating: "1", count: 10_001).joined(separator: ",")
        let failure = try Self.createBookFailure(#"{"title": 5, "unknown": [\#(values)]}"#)
        #expect(failure?.kind == .tooLarge)
    }

    @Test("a field error is answered as malformed when the rest of the document is not JSON")
    func malformedBeatsFieldError() throws {
        #expect(try Self.createBookFailure(#"{"title": 5, "genre": }"#)?.kind == .malformed)
        #expect(try Self.createBookFailure(#"{"price": 1.234, "x": tru}"#)?.kind == .malformed)
        #expect(try Self.createBookFailure(#"{"price": 1.234}"#)?.kind == .invalid)
    }

    // MARK: Structure

    @Test("every truncation of a body is malformed, none is read as a request")
    func truncatedDocuments() throws {
        let full = #"{"title": "D\u00fcne \"2\"", "genre": "fiction", "price": 19.99, "tags": ["sf", "classic"], "author": {"name": "Frank"}, "published_at": "1965-08-01T00:00:00Z", "copies_sold": 20000000, "unknown": [true, false, null, {"a": -1.5e3}]}"#
        #expect(try Self.createBookFailure(full) == nil)
        let bytes = Array(full.utf8)
        for length in 1..<bytes.count {
            let failure = try Self.createBookFailure(ByteBuffer(bytes: bytes[0..<length]))
            #expect(failure?.kind == .malformed, "\(length) bytes")
        }
    }

    @Test("anything after the document's one value is malformed; whitespace is not")
    func trailingBytes() throws {
        #expect(try Self.createBookFailure(#"{"title": "x"} x"#)?.kind == .malformed)
        #expect(try Self.createBookFailure(#"{"title": "x"}{}"#)?.kind == .malformed)
        #expect(try Self.createBookFailure(#"{"title": "x"},"#)?.kind == .malformed)
        #expect(try Self.createBookFailure("{\"title\": \"x\"}\u{0}")?.kind == .malformed)
        #expect(try Self.createBookFailure("{\"title\": \"x\"} \r\n\t ") == nil)
    }

    @Test("whitespace of every kind between tokens is allowed; a body of only whitespace is none")
    func whitespace() throws {
        let book = try Self.book(" \t\r\n{ \n\"title\"\t:\r\"Dune\" ,\n\"tags\" : [ \"a\" ,\t\"b\" ] , \"author\":{ } }\n")
        #expect(book.title == "Dune")
        #expect(book.tags == ["a", "b"])
        #expect(book.hasAuthor)
        #expect(try !Self.book(" \n\t\r ").hasAuthor)
        #expect(try Self.createBookFailure("\u{0B}{}")?.kind == .malformed)
    }

    @Test("structural mistakes are malformed: missing colon, comma, quotes, bad literals, leading zeros")
    func malformedShapes() throws {
        let shapes = [
            #"{"title" "x"}"#, #"{"title": "x" "genre": "fiction"}"#, #"{title: "x"}"#, #"{"title": 'x'}"#,
            #"{"x": nul}"#, #"{"x": True}"#, #"{"x": 01}"#, #"{"x": 1.}"#, #"{"x": .5}"#, #"{"x": 1e}"#, #"{"x": -}"#,
            #"{"x": [1,]}"#, #"{"x": 1,}"#, #"{,}"#, "{\"x\": \"a\u{1}b\"}",
        ]
        for shape in shapes {
            #expect(try Self.createBookFailure(shape)?.kind == .malformed, "\(shape)")
        }
    }

    // MARK: Strings

    @Test("escapes and surrogate pairs decode to the same text as unescaped UTF-8")
    func escapes() throws {
        let book = try Self.book(#"{"title": "\"q\" \\ \/ \b\f\n\r\t \u00e9 é \ud83d\ude00 😀", "unknown": "skipped \" \\ \ud83d\ude00"}"#)
        #expect(book.title == "\"q\" \\ / \u{8}\u{C}\n\r\t é é 😀 😀")
    }

    @Test("an unpaired surrogate, a bad escape or a short \\u is malformed, in known and unknown members alike")
    func badEscapes() throws {
        for escape in [#"\ud83d"#, #"\ud83dx"#, #"\ud83d\u0041"#, #"\x"#, #"\u12"#, #"\u12g4"#] {
            #expect(try Self.createBookFailure(#"{"title": "a\#(escape)b"}"#)?.kind == .malformed, "\(escape)")
            #expect(try Self.createBookFailure(#"{"unknown": "a\#(escape)b"}"#)?.kind == .malformed, "\(escape)")
        }
    }

    // MARK: Numbers

    @Test("Int64 fields take exactly Int64's range; beyond it, a fraction or an exponent is a wrong type")
    func int64Edges() throws {
        #expect(try Self.book(#"{"copies_sold": 9223372036854775807}"#).copiesSold == .max)
        #expect(try Self.book(#"{"copies_sold": -9223372036854775808}"#).copiesSold == .min)
        for number in ["9223372036854775808", "-9223372036854775809", "1.0", "1e3"] {
            #expect(try Self.createBookFailure(#"{"copies_sold": \#(number)}"#)?.kind == .wrongType, "\(number)")
        }
        #expect(try Self.createBookFailure(#"{"copies_sold": "5"}"#)?.kind == .wrongType)
    }

    @Test("Int32 and UInt32 values outside their range are out of domain (422); UInt64 takes its full range")
    func int32AndUInt64Edges() throws {
        func int32(_ text: String) -> Result<Int32, TranscodingError> {
            Self.read(text) { (reader: inout RESTBodyReader) throws(TranscodingError) in try reader.int32(at: "n") }
        }
        func uint32(_ text: String) -> Result<UInt32, TranscodingError> {
            Self.read(text) { (reader: inout RESTBodyReader) throws(TranscodingError) in try reader.uint32(at: "n") }
        }
        func uint64(_ text: String) -> Result<UInt64, TranscodingError> {
            Self.read(text) { (reader: inout RESTBodyReader) throws(TranscodingError) in try reader.uint64(at: "n") }
        }
        #expect(try int32("2147483647").get() == .max)
        #expect(try int32("-2147483648").get() == .min)
        #expect(Self.kind(int32("2147483648")) == .invalid)
        #expect(Self.kind(int32("-2147483649")) == .invalid)
        #expect(try uint32("4294967295").get() == .max)
        #expect(Self.kind(uint32("4294967296")) == .invalid)
        #expect(Self.kind(uint32("-1")) == .invalid)
        #expect(try uint64("18446744073709551615").get() == .max)
        #expect(Self.kind(uint64("18446744073709551616")) == .wrongType)
        #expect(Self.kind(uint64("-1")) == .wrongType)
    }

    @Test("money keeps today's precision rules: two decimals at most, exact cents")
    func money() throws {
        #expect(try Self.book(#"{"price": 19.99}"#).price == 1999)
        #expect(try Self.book(#"{"price": 0.5}"#).price == 50)
        #expect(try Self.book(#"{"price": 7}"#).price == 700)
        #expect(try Self.createBookFailure(#"{"price": 1.999}"#)?.kind == .invalid)
        #expect(try Self.createBookFailure(#"{"price": 1e2}"#)?.kind == .wrongType)
        #expect(try Self.createBookFailure(#"{"price": "19.99"}"#)?.kind == .wrongType)
    }

    // MARK: Fields

    @Test("a repeated name is read again: its last value wins")
    func repeatedName() throws {
        let book = try Self.book(#"{"title": "first", "tags": ["a"], "title": "last", "tags": ["b", "c"]}"#)
        #expect(book.title == "last")
        #expect(book.tags == ["b", "c"])
    }

    @Test("null for a known field or an item is a wrong type; for an unknown one it is skipped")
    func nulls() throws {
        #expect(try Self.createBookFailure(#"{"title": null}"#)?.message == "book.title: must be a value, not null (leave the field out instead)")
        #expect(try Self.createBookFailure(#"{"tags": ["a", null]}"#)?.message == "book.tags[1]: must be a value, not null")
        #expect(try Self.createBookFailure(#"{"unknown": null}"#) == nil)
    }
}

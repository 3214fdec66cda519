import RESTTranscoding
import Testing

/// The parser's bounds on hostile documents (issue 11, item 1); what they
/// cost is measured by `json-bench`, not here.
@Suite("JSON parser limits")
struct JSONLimitsTests {
    static func object(keys: [String]) -> [UInt8] {
        Array(("{" + keys.enumerated().map { #""\#($1)":\#($0)"# }.joined(separator: ",") + "}").utf8)
    }

    @Test("a repeated name keeps its first place and its last value, in small and large objects")
    func repeatedNames() throws {
        for size in [3, 50] {
            let keys = (0..<size).map { "k\($0)" } + ["k1"]
            guard case .object(let members) = try JSONParser.parse(Self.object(keys: keys)) else {
                Issue.record("not an object")
                return
            }
            #expect(members.count == size)
            #expect(members[1].key == "k1")
            #expect(members[1].value == .number(String(size)))
        }
    }

    @Test("an object with more members than the limit is refused as over a limit, naming it")
    func tooManyMembers() {
        let keys = (0..<1_001).map { "k\($0)" }
        let failure = Self.failure { try JSONParser.parse(Self.object(keys: keys)) }
        #expect(failure?.kind == .limitExceeded)
        #expect(failure?.reason == "more than 1000 members in one object")
        #expect(failure?.description.contains("over a limit") == true)
        let limits = JSONParser.Limits(maximumDepth: 64, maximumMembers: 2_000, maximumValues: 100_000)
        let allowed = Self.failure { try JSONParser.parse(Self.object(keys: keys), limits: limits) }
        #expect(allowed == nil)
    }

    @Test("repeated names count against the member limit too")
    func repeatedNamesCount() {
        let keys = Array(repeating: "same", count: 1_001)
        let failure = Self.failure { try JSONParser.parse(Self.object(keys: keys)) }
        #expect(failure?.kind == .limitExceeded)
    }

    @Test("a document with more values than the limit is refused as over a limit")
    func tooManyValues() {
        let text = "[" + Array(repeating: "1", count: 10_001).joined(separator: ",") + "]"
        let failure = Self.failure { try JSONParser.parse(Array(text.utf8)) }
        #expect(failure?.kind == .limitExceeded)
        #expect(failure?.reason == "more than 10000 values in one document")
    }

    @Test("nesting deeper than the limit is over a limit; malformed input is malformed")
    func kinds() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let tooDeep = Self.failure { try JSONParser.parse(Array(deep.utf8)) }
        let broken = Self.failure { try JSONParser.parse(Array(#"{"a":}"#.utf8)) }
        #expect(tooDeep?.kind == .limitExceeded)
        #expect(broken?.kind == .malformed)
    }

    @Test("trusted documents are bounded only in depth")
    func trusted() throws {
        let text = "[" + Array(repeating: "{}", count: 150_000).joined(separator: ",") + "]"
        guard case .array(let items) = try JSONParser.parse(Array(text.utf8), limits: .trusted) else {
            Issue.record("not an array")
            return
        }
        #expect(items.count == 150_000)
    }

    @Test("strings with and without escapes decode alike")
    func strings() throws {
        let value = try JSONParser.parse(Array(#"["plain é", "esc\u00e9\n\"", "\ud83d\ude00x"]"#.utf8))
        #expect(value == .array([.string("plain é"), .string("escé\n\""), .string("😀x")]))
    }

    /// The parser's failure in `body`, or `nil` if it parsed.
    static func failure(_ body: () throws -> JSONValue) -> JSONParser.Failure? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? JSONParser.Failure
        }
    }
}

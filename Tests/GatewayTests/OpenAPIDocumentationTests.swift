import RESTTranscoding
import ShopAPI
import Testing

/// What a reader of `/openapi.json` (and of `/docs`) is promised: whole
/// summaries, a description for every operation, examples for every body.
@Suite("OpenAPI documentation")
struct OpenAPIDocumentationTests {
    /// Every operation of the document with its `VERB path` name.
    static func operations() throws -> [(name: String, operation: JSONValue)] {
        let document = try JSONParser.parse(Array(ShopRoutes.openAPIDocument.utf8))
        guard case .object(let paths)? = document["paths"] else { return [] }
        return paths.flatMap { path, methods -> [(name: String, operation: JSONValue)] in
            guard case .object(let members) = methods else { return [] }
            return members.map { (name: "\($0.key.uppercased()) \(path)", operation: $0.value) }
        }
    }

    @Test func everySummaryIsAWholeSentence() throws {
        for (name, operation) in try Self.operations() {
            let summary = operation["summary"]?.stringValue ?? ""
            #expect(!summary.isEmpty, "\(name) has no summary")
            #expect(summary.hasSuffix("."), "\(name): summary ends mid-sentence: \(summary)")
        }
    }

    @Test func everyOperationHasADescription() throws {
        for (name, operation) in try Self.operations() {
            let description = operation["description"]?.stringValue ?? ""
            #expect(description.count > 10, "\(name) has no description")
        }
    }

    @Test func everyRequestBodyHasAnExample() throws {
        for (name, operation) in try Self.operations() {
            guard let body = operation["requestBody"] else { continue }
            #expect(body["content"]?["application/json"]?["example"] != nil, "\(name): request body without an example")
        }
    }

    @Test func everyJSONResponseHasAnExample() throws {
        for (name, operation) in try Self.operations() {
            guard case .object(let responses)? = operation["responses"] else { continue }
            for (status, response) in responses where status.hasPrefix("2") {
                guard let media = response["content"]?["application/json"] else { continue }
                #expect(media["example"] != nil, "\(name) \(status): response without an example")
            }
        }
    }

    @Test func theInfoComesFromTheProtoOption() throws {
        let document = try JSONParser.parse(Array(ShopRoutes.openAPIDocument.utf8))
        #expect(document["info"]?["title"]?.stringValue == "shop")
        #expect((document["info"]?["description"]?.stringValue ?? "").contains("gateway"))
    }
}

import SwiftProtobufPluginLibrary

/// Renders the gateway's route table: one `RESTRoute` per annotated method,
/// each with its typed request builder and response writer, the
/// `RESTMessage` conformances of every message the routes carry, and the
/// OpenAPI document, all in one Swift file.
struct RouteTableRenderer {
    let typeName: String
    let visibility: String
    /// Messages with generated rule checks: a route whose request is one
    /// checks it before calling (the gateway answers 422 with every failing
    /// field).
    let checked: RuleCheckedMessages

    func render(services: [ServiceModel], messages: [Descriptor], openAPI: String, sources: [String]) -> String {
        let codecs = RESTCodecRenderer(visibility: visibility)
        var out = SwiftWriter()
        out.line("import FrameRPC")
        out.line("import Foundation")
        out.line("import RESTTranscoding")
        out.line("import SwiftProtobuf")
        out.line()
        out.line("/// Every REST route of the gateway, generated from the `(shop.api.http)`")
        out.line("/// options in proto/. The gateway serves these and no others.")
        out.block("\(visibility) enum \(typeName)") { out in
            out.line("\(visibility) static let routes: [RESTRoute] = [")
            out.indented { out in
                for service in services {
                    for method in service.methods {
                        guard let route = method.route else { continue }
                        render(route, method: method, service: service, codecs: codecs, into: &out)
                    }
                }
            }
            out.line("]")
            out.line()
            out.line("/// The OpenAPI 3.0 document of these routes.")
            out.line("\(visibility) static let openAPIDocument = #\"\"\"")
            for documentLine in openAPI.split(separator: "\n", omittingEmptySubsequences: false) where !documentLine.isEmpty {
                out.line(String(documentLine))
            }
            out.line("\"\"\"#")
        }
        codecs.render(messages: messages, into: &out)
        return SwiftWriter.header(source: sources.joined(separator: ", ")) + "\n" + out.text
    }

    private func render(_ route: RouteModel, method: MethodModel, service: ServiceModel, codecs: RESTCodecRenderer, into out: inout SwiftWriter) {
        out.line("RESTRoute(")
        out.indented { out in
            out.line("verb: .\(route.verb.rawValue),")
            out.line("path: \(route.path.swiftLiteral),")
            out.line("service: \(service.fullName.swiftLiteral),")
            out.line("method: \(service.name)Method.\(method.swiftName),")
            switch route.body {
            case .none: out.line("body: .none,")
            case .all: out.line("body: .all,")
            case .field(let name): out.line("body: .field(\(name.swiftLiteral)),")
            }
            out.line("successStatus: \(route.successStatus),")
            switch route.auth {
            case .public: out.line("auth: .public,")
            case .user: out.line("auth: .user,")
            case .admin: out.line("auth: .admin,")
            case .self: out.line("auth: .owner(field: \(route.ownerField.map(\.swiftLiteral) ?? "nil")),")
            }
            out.line("idempotent: \(method.idempotent),")
            out.line("defaultDeadline: \(method.defaultDeadlineMilliseconds.map { ".milliseconds(\($0))" } ?? "nil"),")
            out.line("pathVariables: [\(route.pathVariables.map(\.swiftLiteral).joined(separator: ", "))],")
            if route.query.isEmpty {
                out.line("query: [],")
            } else {
                out.line("query: [")
                out.indented { out in
                    for parameter in route.query {
                        let repeated = parameter.repeated ? ", repeated: true" : ""
                        out.line("QueryParameter(\(parameter.name.swiftLiteral)\(repeated)),")
                    }
                }
                out.line("],")
            }
            out.line("request: \(method.input.protoName.swiftLiteral),")
            out.line("response: \(method.output.protoName.swiftLiteral),")
            out.line("requestFields: [\(method.input.descriptor.fields.map(\.name.swiftLiteral).joined(separator: ", "))],")
            out.line("responseBody: \(route.responseBody.map(\.swiftLiteral) ?? "nil"),")
            out.line("isStreaming: \(method.serverStreaming),")
            out.line("prepare: { input in")
            out.indented { out in
                renderPrepare(route, method: method, service: service, codecs: codecs, into: &out)
            }
            out.line("}")
        }
        out.line("),")
    }

    /// The request builder: body, then query, then path (so path beats
    /// query beats body), the idempotency key, and the call.
    private func renderPrepare(_ route: RouteModel, method: MethodModel, service: ServiceModel, codecs: RESTCodecRenderer, into out: inout SwiftWriter) {
        let input = method.input.descriptor
        let idempotencyKey = input.fields.first { $0.name == Self.idempotencyField && $0.type == .string && !$0.isRepeated }
        let fills = route.body != .none || !route.query.isEmpty || !route.pathVariables.isEmpty || idempotencyKey != nil
        out.line("\(fills ? "var" : "let") request = \(method.input.swiftName)()")
        switch route.body {
        case .none:
            break
        case .all:
            out.line("try input.readBody { (reader: inout RESTBodyReader) throws(TranscodingError) in")
            out.indented { out in
                out.line("try reader.bodyObject()")
                out.line("try request.mergeREST(from: &reader, at: \"\")")
            }
            out.line("}")
        case .field(let name):
            if let field = input.fields.first(where: { $0.name == name }), let codec = RESTCodecRenderer.codec(of: field) {
                // A null body leaves the field unset, as an absent one does.
                out.line("try input.readBody { (reader: inout RESTBodyReader) throws(TranscodingError) in")
                out.indented { out in
                    out.line("if try reader.skipNull() { return }")
                    out.line("request.\(codecs.property(field).name) = \(codecs.read(field, codec, at: name.swiftLiteral))")
                }
                out.line("}")
            }
        }
        for parameter in route.query {
            guard let (property, field) = resolve(parameter.name, in: input, codecs: codecs), let codec = RESTCodecRenderer.codec(of: field),
                  let converted = codecs.readText(codec, text: "text", at: parameter.name.swiftLiteral) else { continue }
            if parameter.repeated {
                out.line("let \(Self.variable(parameter.name)) = input.queryValues(\(parameter.name.swiftLiteral))")
                out.block("if !\(Self.variable(parameter.name)).isEmpty") { out in
                    out.line("request.\(property) = []")
                    out.block("for text in \(Self.variable(parameter.name))") { out in
                        out.line("request.\(property).append(\(converted))")
                    }
                }
            } else {
                out.block("if let text = input.query(\(parameter.name.swiftLiteral))") { out in
                    out.line("request.\(property) = \(converted)")
                }
            }
        }
        for variable in route.pathVariables {
            guard let (property, field) = resolve(variable, in: input, codecs: codecs), let codec = RESTCodecRenderer.codec(of: field),
                  let converted = codecs.readText(codec, text: "text", at: variable.swiftLiteral) else { continue }
            out.block("if let text = input.path(\(variable.swiftLiteral))") { out in
                out.line("request.\(property) = \(converted)")
            }
        }
        if let key = idempotencyKey {
            out.block("if let key = input.idempotencyKey") { out in
                out.line("request.\(codecs.property(key).name) = key")
            }
        }
        out.line("let message = request")

        // The string fields the gateway reads before calling: the owner
        // field and every top-level string (the account's email).
        var exposed: [(path: String, property: String)] = []
        for field in input.fields where field.type == .string && !field.isRepeated {
            exposed.append((field.name, codecs.property(field).name))
        }
        if let owner = route.ownerField, !exposed.contains(where: { $0.path == owner }), let (property, _) = resolve(owner, in: input, codecs: codecs) {
            exposed.append((owner, property))
        }
        out.line("return RESTCall(")
        out.indented { out in
            out.line("message: message,")
            if exposed.isEmpty {
                out.line("string: { _ in nil },")
            } else {
                out.line("string: { path in")
                out.indented { out in
                    out.line("let value: String")
                    out.line("switch path {")
                    for (path, property) in exposed {
                        out.line("case \(path.swiftLiteral): value = message.\(property)")
                    }
                    out.line("default: return nil")
                    out.line("}")
                    out.line("return value.isEmpty ? nil : value")
                }
                out.line("},")
            }
            let client = "\(service.name)Client(client)"
            let output = method.output.descriptor
            if method.serverStreaming {
                out.line("invocation: .serverStreaming { client, options, send in")
                out.indented { out in
                    if checked.contains(input) { out.line("try message.checkRules()") }
                    out.line("try await \(client).\(method.swiftName)(message, options: options) { responses in")
                    out.indented { out in
                        out.block("for try await response in responses") { out in
                            out.line("var writer = RESTWriter()")
                            writeResponse(route, output: output, codecs: codecs, into: &out)
                            out.line("try await send(writer.buffer)")
                        }
                    }
                    out.line("}")
                }
                out.line("}")
            } else {
                out.line("invocation: .unary { client, options in")
                out.indented { out in
                    if checked.contains(input) { out.line("try message.checkRules()") }
                    let token = output.fields.first { $0.name == Self.nextPageTokenField && $0.type == .string && !$0.isRepeated }
                    if route.successStatus == 204 {
                        out.line("_ = try await \(client).\(method.swiftName)(message, options: options)")
                        out.line("return RESTResponse.empty")
                    } else {
                        out.line("let response = try await \(client).\(method.swiftName)(message, options: options)")
                        out.line("var writer = RESTWriter()")
                        writeResponse(route, output: output, codecs: codecs, into: &out)
                        if let token {
                            out.line("return RESTResponse(body: writer.buffer, nextPageToken: RESTResponse.pageToken(response.\(codecs.property(token).name)))")
                        } else {
                            out.line("return RESTResponse(body: writer.buffer)")
                        }
                    }
                }
                out.line("}")
            }
        }
        out.line(")")
    }

    /// Writes `response` as the route's body: the whole message, or its
    /// `response_body` field alone (an unset one as `[]`, as before).
    private func writeResponse(_ route: RouteModel, output: Descriptor, codecs: RESTCodecRenderer, into out: inout SwiftWriter) {
        guard let name = route.responseBody, let field = output.fields.first(where: { $0.name == name }), let codec = RESTCodecRenderer.codec(of: field) else {
            out.line("response.writeREST(to: &writer)")
            return
        }
        let names = codecs.property(field)
        if field.isRepeated {
            if case .message = codec {
                out.line("writer.messages(response.\(names.name))")
            } else {
                out.line("writer.beginArray()")
                out.block("for item in response.\(names.name)") { out in
                    out.line("writer.element()")
                    out.line(codecs.writeOne(codec, value: "item"))
                }
                out.line("writer.endArray()")
            }
            return
        }
        switch codec {
        case .message, .timestamp:
            out.line("if response.\(names.has) { \(codecs.writeOne(codec, value: "response.\(names.name)")) } else { writer.raw(\"[]\") }")
        case .scalar:
            out.line(codecs.writeOne(codec, value: "response.\(names.name)"))
        }
    }

    /// The Swift property path (`filter.authorName`) and field of a dotted proto path.
    private func resolve(_ dotted: String, in message: Descriptor, codecs: RESTCodecRenderer) -> (String, FieldDescriptor)? {
        var current = message
        var properties: [String] = []
        let names = dotted.split(separator: ".").map(String.init)
        for (index, name) in names.enumerated() {
            guard let field = current.fields.first(where: { $0.name == name }) else { return nil }
            properties.append(codecs.property(field).name)
            if index == names.count - 1 { return (properties.joined(separator: "."), field) }
            guard field.type == .message, !field.isRepeated else { return nil }
            current = field.messageType
        }
        return nil
    }

    /// A Swift variable name for a query parameter's values.
    private static func variable(_ parameter: String) -> String {
        var name = ""
        var upper = false
        for character in parameter {
            if character == "_" || character == "." { upper = true; continue }
            name += upper ? character.uppercased() : String(character)
            upper = false
        }
        return name + "Values"
    }

    /// The request field an `Idempotency-Key` header fills.
    static let idempotencyField = "idempotency_key"
    /// The response field that holds a list's next page token.
    static let nextPageTokenField = "next_page_token"
}

/// Renders the gateway's route table: one `RESTRoute` per annotated method,
/// the JSON shapes of every message the routes carry, and the OpenAPI
/// document, all in one Swift file.
struct RouteTableRenderer {
    let typeName: String
    let visibility: String
    /// Messages with generated rule checks: a route whose request is one
    /// checks it before calling (the gateway answers 422 with every failing
    /// field).
    let checked: RuleCheckedMessages

    func render(services: [ServiceModel], shapes: [MessageShape], openAPI: String, sources: [String]) -> String {
        var out = SwiftWriter()
        out.line("import FrameRPC")
        out.line("import Foundation")
        out.line("import RESTTranscoding")
        out.line()
        out.line("/// Every REST route of the gateway, generated from the `(shop.api.http)`")
        out.line("/// options in proto/. The gateway serves these and no others.")
        out.block("\(visibility) enum \(typeName)") { out in
            out.line("\(visibility) static let routes: [RESTRoute] = [")
            out.indented { out in
                for service in services {
                    for method in service.methods {
                        guard let route = method.route else { continue }
                        render(route, method: method, service: service, into: &out)
                    }
                }
            }
            out.line("]")
            out.line()
            out.line("/// The JSON shape of every message the routes read or write, by proto name.")
            out.line("\(visibility) static let shapes: [String: MessageShape] = [")
            out.indented { out in
                for shape in shapes {
                    out.line("\(shape.protoName.swiftLiteral): MessageShape(fields: [")
                    out.indented { out in
                        for field in shape.fields {
                            let repeated = field.repeated ? ", repeated: true" : ""
                            out.line("FieldShape(\(field.name.swiftLiteral), \(kindLiteral(field.kind))\(repeated)),")
                        }
                    }
                    out.line("]),")
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
        return SwiftWriter.header(source: sources.joined(separator: ", ")) + "\n" + out.text
    }

    private func render(_ route: RouteModel, method: MethodModel, service: ServiceModel, into out: inout SwiftWriter) {
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
                        out.line("QueryParameter(\(parameter.name.swiftLiteral), \(kindLiteral(.scalar(parameter.kind)))\(repeated)),")
                    }
                }
                out.line("],")
            }
            out.line("request: \(method.input.protoName.swiftLiteral),")
            out.line("response: \(method.output.protoName.swiftLiteral),")
            out.line("responseBody: \(route.responseBody.map(\.swiftLiteral) ?? "nil"),")
            let client = "\(service.name)Client(client)"
            if method.serverStreaming {
                out.line("call: .serverStreaming { client, json, options, send in")
                out.indented { out in
                    out.line("let request = try \(method.input.swiftName)(jsonUTF8Data: json, options: RESTRoute.decodingOptions)")
                    if checked.contains(method.input.descriptor) { out.line("try request.checkRules()") }
                    out.line("try await \(client).\(method.swiftName)(request, options: options) { responses in")
                    out.indented { out in
                        out.block("for try await response in responses") { out in
                            out.line("try await send(try response.jsonUTF8Data(options: RESTRoute.encodingOptions))")
                        }
                    }
                    out.line("}")
                }
                out.line("}")
            } else {
                out.line("call: .unary { client, json, options in")
                out.indented { out in
                    out.line("let request = try \(method.input.swiftName)(jsonUTF8Data: json, options: RESTRoute.decodingOptions)")
                    if checked.contains(method.input.descriptor) { out.line("try request.checkRules()") }
                    out.line("let response = try await \(client).\(method.swiftName)(request, options: options)")
                    out.line("return try response.jsonUTF8Data(options: RESTRoute.encodingOptions)")
                }
                out.line("}")
            }
        }
        out.line("),")
    }

    private func kindLiteral(_ kind: FieldShape.Kind) -> String {
        switch kind {
        case .timestamp: return ".timestamp"
        case .opaque: return ".opaque"
        case .message(let name): return ".message(\(name.swiftLiteral))"
        case .scalar(let scalar):
            switch scalar {
            case .string: return ".string"
            case .bool: return ".bool"
            case .int32: return ".int32"
            case .uint32: return ".uint32"
            case .int64: return ".int64"
            case .uint64: return ".uint64"
            case .double: return ".double"
            case .bytes: return ".bytes"
            case .money: return ".money"
            case .enumeration(_, let prefix, let values):
                return ".enumeration(prefix: \(prefix.swiftLiteral), values: [\(values.map(\.swiftLiteral).joined(separator: ", "))])"
            }
        }
    }
}

/// Renders the OpenAPI 3.0 document of every HTTP route: paths, parameters,
/// request and response schemas with the REST JSON's snake_case names,
/// error responses and the bearer-token security scheme.
struct OpenAPIRenderer {
    let title: String
    let version: String

    func render(services: [ServiceModel], shapes: [MessageShape]) -> String {
        var paths: [String: [(RouteModel.Verb, JSONValue)]] = [:]
        for service in services {
            for method in service.methods {
                guard let route = method.route else { continue }
                paths[route.path, default: []].append((route.verb, operation(route, method: method, service: service)))
            }
        }
        let pathMembers: [(String, JSONValue)] = paths.keys.sorted().map { path in
            let operations = paths[path]!.sorted { Self.verbOrder($0.0) < Self.verbOrder($1.0) }
            return (path, .object(operations.map { ($0.0.rawValue, $0.1) }))
        }
        let schemas: [(String, JSONValue)] = [("Error", Self.errorSchema)]
            + shapes.sorted { $0.protoName < $1.protoName }.map { ($0.protoName, schema(of: $0)) }
        let document: JSONValue = .object([
            ("openapi", .string("3.0.3")),
            ("info", .object([("title", .string(title)), ("version", .string(version))])),
            ("paths", .object(pathMembers)),
            ("components", .object([
                ("schemas", .object(schemas)),
                ("responses", .object(Self.errorResponses.map { ($0.name, Self.errorResponse($0.description)) })),
                ("securitySchemes", .object([
                    ("bearerAuth", .object([
                        ("type", .string("http")),
                        ("scheme", .string("bearer")),
                        ("bearerFormat", .string("JWT")),
                    ])),
                ])),
            ])),
        ])
        return document.rendered() + "\n"
    }

    private static func verbOrder(_ verb: RouteModel.Verb) -> Int {
        RouteModel.Verb.allCases.firstIndex(of: verb)!
    }

    // MARK: Operations

    private func operation(_ route: RouteModel, method: MethodModel, service: ServiceModel) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("operationId", .string("\(service.name)_\(method.name)")),
            ("tags", .array([.string(service.name)])),
        ]
        let summary = method.comments.split(separator: "\n").first.map { String($0).trimmingCharacters() } ?? ""
        if !summary.isEmpty { members.append(("summary", .string(summary))) }

        var parameters: [JSONValue] = route.pathVariables.map { name in
            .object([
                ("name", .string(name)),
                ("in", .string("path")),
                ("required", .bool(true)),
                ("schema", schema(of: .scalar(Self.fieldKind(name, in: method.input, shapes: nil) ?? .string), repeated: false)),
            ])
        }
        parameters += route.query.map { parameter in
            .object([
                ("name", .string(parameter.name)),
                ("in", .string("query")),
                ("required", .bool(false)),
                ("schema", schema(of: .scalar(parameter.kind), repeated: parameter.repeated)),
            ])
        }
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }

        switch route.body {
        case .none:
            break
        case .all:
            members.append(("requestBody", Self.jsonBody(.object([("$ref", .string("#/components/schemas/\(method.input.protoName)"))]))))
        case .field(let name):
            let field = method.input.descriptor.fields.first { $0.name == name }!
            let kind: FieldShape.Kind = field.type == .message ? .message(field.messageType.fullName) : .scalar(ScalarKind(field) ?? .string)
            members.append(("requestBody", Self.jsonBody(schema(of: kind, repeated: field.isRepeated))))
        }

        var responses: [(String, JSONValue)] = []
        let success = String(route.successStatus)
        if method.serverStreaming {
            responses.append((success, .object([
                ("description", .string("Server-Sent Events: one `data:` line of \(method.output.protoName) JSON per message")),
                ("content", .object([("text/event-stream", .object([("schema", .object([("type", .string("string"))]))]))])),
            ])))
        } else if route.successStatus == 204 {
            responses.append((success, .object([("description", .string("Done; no content"))])))
        } else {
            var schema: JSONValue = .object([("$ref", .string("#/components/schemas/\(method.output.protoName)"))])
            if let name = route.responseBody, let field = method.output.descriptor.fields.first(where: { $0.name == name }) {
                let kind: FieldShape.Kind = field.type == .message ? .message(field.messageType.fullName) : .scalar(ScalarKind(field) ?? .string)
                schema = self.schema(of: kind, repeated: field.isRepeated)
            }
            responses.append((success, .object([
                ("description", .string("Success")),
                ("content", .object([("application/json", .object([("schema", schema)]))])),
            ])))
        }
        var errors = ["400", "422", "429", "500", "503", "504"]
        if route.auth != .public { errors += ["401", "403"] }
        if !route.pathVariables.isEmpty { errors.append("404") }
        if route.verb != .get { errors.append("409") }
        if route.body != .none { errors.append("413") }
        for status in errors.sorted() {
            let name = Self.errorResponses.first { $0.status == status }!.name
            responses.append((status, .object([("$ref", .string("#/components/responses/\(name)"))])))
        }
        members.append(("responses", .object(responses)))
        if route.auth != .public {
            members.append(("security", .array([.object([("bearerAuth", .array([]))])])))
        }
        return .object(members)
    }

    private static func fieldKind(_ dottedPath: String, in message: MessageRef, shapes: [MessageShape]?) -> ScalarKind? {
        var current = message.descriptor
        let names = dottedPath.split(separator: ".").map(String.init)
        for (index, name) in names.enumerated() {
            guard let field = current.fields.first(where: { $0.name == name }) else { return nil }
            if index == names.count - 1 { return ScalarKind(field) }
            current = field.messageType
        }
        return nil
    }

    private static func jsonBody(_ schema: JSONValue) -> JSONValue {
        .object([
            ("required", .bool(true)),
            ("content", .object([("application/json", .object([("schema", schema)]))])),
        ])
    }

    // MARK: Schemas

    private func schema(of shape: MessageShape) -> JSONValue {
        .object([
            ("type", .string("object")),
            ("properties", .object(shape.fields.map { ($0.name, schema(of: $0.kind, repeated: $0.repeated)) })),
        ])
    }

    private func schema(of kind: FieldShape.Kind, repeated: Bool) -> JSONValue {
        let single: JSONValue
        switch kind {
        case .message(let name):
            single = .object([("$ref", .string("#/components/schemas/\(name)"))])
        case .timestamp:
            single = .object([("type", .string("string")), ("format", .string("date-time"))])
        case .opaque:
            single = .object([])
        case .scalar(let scalar):
            switch scalar {
            case .string: single = .object([("type", .string("string"))])
            case .bool: single = .object([("type", .string("boolean"))])
            case .int32: single = .object([("type", .string("integer")), ("format", .string("int32"))])
            case .uint32: single = .object([("type", .string("integer")), ("format", .string("int64")), ("minimum", .integer(0))])
            case .int64: single = .object([("type", .string("integer")), ("format", .string("int64"))])
            case .uint64: single = .object([("type", .string("integer")), ("format", .string("int64")), ("minimum", .integer(0))])
            case .double: single = .object([("type", .string("number")), ("format", .string("double"))])
            case .bytes: single = .object([("type", .string("string")), ("format", .string("byte"))])
            case .money: single = .object([("type", .string("number")), ("multipleOf", .number(0.01))])
            case .enumeration(_, _, let values):
                single = .object([
                    ("type", .string("string")),
                    ("enum", .array(values.filter { $0 != "unspecified" }.map { .string($0) })),
                ])
            }
        }
        return repeated ? .object([("type", .string("array")), ("items", single)]) : single
    }

    // MARK: Errors

    private static let errorSchema: JSONValue = .object([
        ("type", .string("object")),
        ("required", .array([.string("detail"), .string("code"), .string("request_id")])),
        ("properties", .object([
            ("detail", .object([("type", .string("string")), ("description", .string("A message for humans"))])),
            ("code", .object([("type", .string("string")), ("description", .string("The RPC status name, e.g. NOT_FOUND"))])),
            ("request_id", .object([("type", .string("string"))])),
        ])),
    ])

    private static let errorResponses: [(status: String, name: String, description: String)] = [
        ("400", "BadRequest", "The body is not JSON or a field has the wrong type"),
        ("401", "Unauthenticated", "Missing, expired or invalid token"),
        ("403", "PermissionDenied", "The token is valid but not allowed here"),
        ("404", "NotFound", "No such resource"),
        ("409", "Conflict", "Duplicate, wrong state or not enough stock"),
        ("413", "PayloadTooLarge", "The body is over 1 MiB"),
        ("422", "ValidationFailed", "A field failed validation"),
        ("429", "TooManyRequests", "Too many requests in flight"),
        ("500", "InternalError", "An internal error; no detail is given"),
        ("503", "Unavailable", "An upstream service is down or its circuit is open; see Retry-After"),
        ("504", "DeadlineExceeded", "The request's deadline passed"),
    ]

    private static func errorResponse(_ description: String) -> JSONValue {
        .object([
            ("description", .string(description)),
            ("content", .object([("application/json", .object([
                ("schema", .object([("$ref", .string("#/components/schemas/Error"))])),
            ]))])),
        ])
    }
}

extension String {
    func trimmingCharacters() -> String {
        var result = Substring(self)
        while result.first == " " || result.first == "/" { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return String(result)
    }
}

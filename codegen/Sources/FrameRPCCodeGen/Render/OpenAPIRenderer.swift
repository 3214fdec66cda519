/// Renders the OpenAPI 3.0 document of every HTTP route: paths, parameters,
/// request and response schemas with the REST JSON's snake_case names,
/// error responses and the bearer-token security scheme.
///
/// Each operation's summary is the first sentence of its method's comment,
/// whole, and its description the rest plus who may call it; schemas and
/// properties carry their messages' and fields' comments and examples, and
/// every request body and response an example: the method's `(shop.api.doc)`
/// one, or one derived from the field examples.
struct OpenAPIRenderer {
    let info: APIInfo

    func render(services: [ServiceModel], shapes: [MessageShape]) -> String {
        var paths: [String: [(RouteModel.Verb, JSONValue)]] = [:]
        var pathBound: [String: Set<String>] = [:]
        for service in services {
            for method in service.methods {
                guard let route = method.route, route.body == .all else { continue }
                pathBound[method.input.protoName, default: []].formUnion(route.pathVariables)
            }
        }
        let shapesByName = Dictionary(shapes.map { ($0.protoName, $0) }, uniquingKeysWith: { first, _ in first })
        for service in services {
            for method in service.methods {
                guard let route = method.route else { continue }
                paths[route.path, default: []].append((route.verb, operation(route, method: method, service: service, shapes: shapesByName)))
            }
        }
        let pathMembers: [(String, JSONValue)] = paths.keys.sorted().map { path in
            let operations = paths[path]!.sorted { Self.verbOrder($0.0) < Self.verbOrder($1.0) }
            return (path, .object(operations.map { ($0.0.rawValue, $0.1) }))
        }
        let schemas: [(String, JSONValue)] = [("Error", Self.errorSchema)]
            + shapes.sorted { $0.protoName < $1.protoName }.map { ($0.protoName, schema(of: $0, pathBound: pathBound[$0.protoName] ?? [])) }
        let document: JSONValue = .object([
            ("openapi", .string("3.0.3")),
            ("info", infoObject),
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

    private var infoObject: JSONValue {
        var members: [(String, JSONValue)] = [("title", .string(info.title)), ("version", .string(info.version))]
        if !info.description.isEmpty { members.append(("description", .string(info.description))) }
        var contact: [(String, JSONValue)] = []
        if !info.contactName.isEmpty { contact.append(("name", .string(info.contactName))) }
        if !info.contactURL.isEmpty { contact.append(("url", .string(info.contactURL))) }
        if !info.contactEmail.isEmpty { contact.append(("email", .string(info.contactEmail))) }
        if !contact.isEmpty { members.append(("contact", .object(contact))) }
        return .object(members)
    }

    private static func verbOrder(_ verb: RouteModel.Verb) -> Int {
        RouteModel.Verb.allCases.firstIndex(of: verb)!
    }

    // MARK: Operations

    private func operation(_ route: RouteModel, method: MethodModel, service: ServiceModel, shapes: [String: MessageShape]) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("operationId", .string("\(service.name)_\(method.name)")),
            ("tags", .array([.string(service.name)])),
        ]
        let doc = method.doc
        if !doc.summary.isEmpty { members.append(("summary", .string(doc.summary))) }
        let description = [doc.description, Self.whoMayCall(route.auth)].filter { !$0.isEmpty }.joined(separator: "\n\n")
        members.append(("description", .string(description)))

        var parameters: [JSONValue] = route.pathVariables.map { name in
            .object([
                ("name", .string(name)),
                ("in", .string("path")),
                ("required", .bool(true)),
                ("schema", Self.constrained(schema(of: .scalar(Self.fieldKind(name, in: method.input, shapes: nil) ?? .string), repeated: false), rules: Self.fieldRules(name, in: method.input), money: Self.fieldKind(name, in: method.input, shapes: nil) == .money, repeated: false)),
            ])
        }
        parameters += route.query.map { parameter in
            .object([
                ("name", .string(parameter.name)),
                ("in", .string("query")),
                ("required", .bool(false)),
                ("schema", Self.constrained(schema(of: .scalar(parameter.kind), repeated: parameter.repeated), rules: Self.fieldRules(parameter.name, in: method.input), money: parameter.kind == .money, repeated: parameter.repeated)),
            ])
        }
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }

        switch route.body {
        case .none:
            break
        case .all:
            let example = method.requestExample
                ?? Self.example(of: method.input.protoName, shapes: shapes, leavingOut: Set(route.pathVariables))
            members.append(("requestBody", Self.jsonBody(.object([("$ref", .string("#/components/schemas/\(method.input.protoName)"))]), example: example)))
        case .field(let name):
            let field = method.input.descriptor.fields.first { $0.name == name }!
            let kind: FieldShape.Kind = field.type == .message ? .message(field.messageType.fullName) : .scalar(ScalarKind(field) ?? .string)
            let shape = shapes[method.input.protoName]?.fields.first { $0.name == name }
            let example = method.requestExample ?? shape.flatMap { Self.example(of: $0, shapes: shapes) }
            members.append(("requestBody", Self.jsonBody(schema(of: kind, repeated: field.isRepeated), example: example)))
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
            var example = method.responseExample ?? Self.example(of: method.output.protoName, shapes: shapes, leavingOut: [])
            if let name = route.responseBody, let field = method.output.descriptor.fields.first(where: { $0.name == name }) {
                let kind: FieldShape.Kind = field.type == .message ? .message(field.messageType.fullName) : .scalar(ScalarKind(field) ?? .string)
                schema = self.schema(of: kind, repeated: field.isRepeated)
                if method.responseExample == nil {
                    example = shapes[method.output.protoName]?.fields.first { $0.name == name }.flatMap { Self.example(of: $0, shapes: shapes) }
                }
            }
            var media: [(String, JSONValue)] = [("schema", schema)]
            if let example { media.append(("example", example)) }
            responses.append((success, .object([
                ("description", .string("Success")),
                ("content", .object([("application/json", .object(media))])),
            ])))
        }
        // 401 on every route: a public one too may refuse a caller (login's
        // wrong password); 404 on every route: a body or query may name
        // something that is not there (an order's product).
        var errors = ["400", "401", "404", "422", "429", "500", "503", "504"]
        if route.auth != .public { errors.append("403") }
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

    /// The rules of the field at a dotted path of `message`.
    private static func fieldRules(_ dottedPath: String, in message: MessageRef) -> FieldRulesModel? {
        var current = message.descriptor
        let names = dottedPath.split(separator: ".").map(String.init)
        for (index, name) in names.enumerated() {
            guard let field = current.fields.first(where: { $0.name == name }) else { return nil }
            if index == names.count - 1 { return FieldRulesModel.of(field) }
            guard field.type == .message else { return nil }
            current = field.messageType
        }
        return nil
    }

    private static func jsonBody(_ schema: JSONValue, example: JSONValue?) -> JSONValue {
        var media: [(String, JSONValue)] = [("schema", schema)]
        if let example { media.append(("example", example)) }
        return .object([
            ("required", .bool(true)),
            ("content", .object([("application/json", .object(media))])),
        ])
    }

    /// Who may call a route, the last paragraph of its description.
    private static func whoMayCall(_ auth: RouteModel.Auth) -> String {
        switch auth {
        case .public: "Public: no token needed."
        case .user: "Needs a bearer token (any signed-in user)."
        case .self: "Needs a bearer token: the owner's, or an admin's."
        case .admin: "Needs an admin's bearer token."
        }
    }

    // MARK: Examples

    /// An example of message `name` built from its fields' examples, nested
    /// messages included (a repeated field shows one element); fields named
    /// in `leavingOut` (bound by the path) and fields without an example are
    /// left out. `nil` when no field has one.
    private static func example(of name: String, shapes: [String: MessageShape], leavingOut: Set<String>, depth: Int = 0) -> JSONValue? {
        guard depth < 4, let shape = shapes[name] else { return nil }
        let members: [(String, JSONValue)] = shape.fields.compactMap { field in
            guard !leavingOut.contains(field.name) else { return nil }
            return example(of: field, shapes: shapes, depth: depth).map { (field.name, $0) }
        }
        return members.isEmpty ? nil : .object(members)
    }

    private static func example(of field: FieldShape, shapes: [String: MessageShape], depth: Int = 0) -> JSONValue? {
        if let example = field.example { return example }
        guard case .message(let nested) = field.kind,
              let single = example(of: nested, shapes: shapes, leavingOut: [], depth: depth + 1) else { return nil }
        return field.repeated ? .array([single]) : single
    }

    // MARK: Schemas

    /// A message's schema. Its `required` lists the fields whose rules say
    /// `required`; fields a route fills from its path are left out.
    private func schema(of shape: MessageShape, pathBound: Set<String>) -> JSONValue {
        var members: [(String, JSONValue)] = [("type", .string("object"))]
        if !shape.description.isEmpty { members.append(("description", .string(shape.description))) }
        let required = shape.fields.filter { $0.rules?.required == true && !pathBound.contains($0.name) }.map(\.name)
        if !required.isEmpty { members.append(("required", .array(required.map { .string($0) }))) }
        // A field a route fills from its path is not part of the body (the
        // path wins over it), so the body's schema leaves it out.
        members.append(("properties", .object(shape.fields.filter { !pathBound.contains($0.name) }.map { ($0.name, property($0)) })))
        return .object(members)
    }

    /// A schema with a field's `(shop.api.rules)` as JSON Schema
    /// constraints: on the array for the count rules, on its items (or the
    /// value) for the rest. `required` on a string is `minLength` 1, on a
    /// list `minItems` 1 (an empty value is what an absent one reads as).
    static func constrained(_ schema: JSONValue, rules: FieldRulesModel?, money: Bool, repeated: Bool) -> JSONValue {
        guard let rules, case .object(var members) = schema else { return schema }
        if repeated {
            guard let itemsIndex = members.firstIndex(where: { $0.0 == "items" }) else { return schema }
            var element = rules
            element.required = false
            members[itemsIndex].1 = constrained(members[itemsIndex].1, rules: element, money: money, repeated: false)
            let minItems = max(rules.minItems ?? 0, rules.required ? 1 : 0)
            if minItems > 0 { members.append(("minItems", .integer(Int(minItems)))) }
            if let maxItems = rules.maxItems { members.append(("maxItems", .integer(Int(maxItems)))) }
            return .object(members)
        }
        guard members.first?.0 != "$ref" else { return schema }
        let type: String? = members.first { $0.0 == "type" }.flatMap { if case .string(let name) = $0.1 { name } else { nil } }
        switch type {
        case "string"? where !members.contains(where: { $0.0 == "enum" }):
            if let format = rules.format {
                members.removeAll { $0.0 == "format" }
                members.append(("format", .string(format.rawValue)))
            }
            let minLength = max(rules.minLength ?? 0, rules.required ? 1 : 0)
            if minLength > 0 { members.append(("minLength", .integer(Int(minLength)))) }
            if let maxLength = rules.maxLength { members.append(("maxLength", .integer(Int(maxLength)))) }
            if let pattern = rules.pattern { members.append(("pattern", .string(pattern))) }
        case "integer"?, "number"?:
            if let minimum = rules.minimum {
                members.removeAll { $0.0 == "minimum" }
                members.append(("minimum", bound(minimum, money: money)))
            }
            if let maximum = rules.maximum { members.append(("maximum", bound(maximum, money: money))) }
        default:
            break
        }
        return .object(members)
    }

    /// A bound as JSON: cents shown as a decimal for money.
    private static func bound(_ value: Int64, money: Bool) -> JSONValue {
        guard money else { return .integer(Int(value)) }
        let magnitude = value.magnitude
        let fraction = magnitude % 100
        return .decimal("\(value < 0 ? "-" : "")\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)")
    }

    /// A property's schema with its field's description and example. A
    /// reference gets them beside an `allOf`, since OpenAPI 3.0 ignores the
    /// siblings of a `$ref`.
    private func property(_ field: FieldShape) -> JSONValue {
        let schema = Self.constrained(schema(of: field.kind, repeated: field.repeated), rules: field.rules, money: field.kind == .scalar(.money), repeated: field.repeated)
        var extra: [(String, JSONValue)] = []
        if !field.description.isEmpty { extra.append(("description", .string(field.description))) }
        if let example = field.example { extra.append(("example", example)) }
        guard !extra.isEmpty, case .object(let members) = schema else { return schema }
        if members.first?.0 == "$ref" {
            return .object([("allOf", .array([schema]))] + extra)
        }
        return .object(members + extra)
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
            ("errors", .object([
                ("type", .string("array")),
                ("description", .string("With 422 for broken field rules: every failing field, not just the first")),
                ("items", .object([
                    ("type", .string("object")),
                    ("required", .array([.string("field"), .string("rule"), .string("message")])),
                    ("properties", .object([
                        ("field", .object([("type", .string("string")), ("description", .string("The field's path, e.g. items[0].quantity"))])),
                        ("rule", .object([("type", .string("string")), ("description", .string("The broken rule, e.g. minimum, max_length, format"))])),
                        ("message", .object([("type", .string("string"))])),
                    ])),
                ])),
            ])),
        ])),
    ])

    private static let errorResponses: [(status: String, name: String, description: String)] = [
        ("400", "BadRequest", "The body is not JSON or a field has the wrong type"),
        ("401", "Unauthenticated", "Missing, expired or invalid token"),
        ("403", "PermissionDenied", "The token is valid but not allowed here"),
        ("404", "NotFound", "No such resource"),
        ("409", "Conflict", "Duplicate, wrong state or not enough stock"),
        ("413", "PayloadTooLarge", "The body is over 1 MiB"),
        ("422", "ValidationFailed", "A field failed validation; `errors` lists every failing field"),
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

import SwiftProtobuf
import SwiftProtobufPluginLibrary

/// Turns descriptors into ``ServiceModel``s, checking every HTTP annotation.
/// Problems are collected, not thrown one by one, so a run reports them all.
struct ModelBuilder {
    private let namer = SwiftProtobufNamer()
    private(set) var errors: [CodeGenError] = []

    mutating func services(in files: [FileDescriptor]) -> [ServiceModel] {
        let services = files.flatMap { file in
            file.services.map { service(from: $0) }
        }
        checkRouteConflicts(services)
        checkServiceNames(services)
        for file in files {
            checkExamples(in: file.messages, file: file.name)
            checkRules(in: file.messages, file: file.name)
        }
        return services
    }

    private mutating func service(from descriptor: ServiceDescriptor) -> ServiceModel {
        let file = descriptor.file.name
        var defaultPolicy: PolicyModel?
        if descriptor.options.hasShop_Api_defaultPolicy {
            defaultPolicy = policy(
                descriptor.options.Shop_Api_defaultPolicy, isMethodOwn: false,
                file: file, element: descriptor.name, option: "default_policy"
            )
        }
        let methods = descriptor.methods.map { method(from: $0, defaultPolicy: defaultPolicy) }
        let declaresPolicies = descriptor.options.hasShop_Api_defaultPolicy || descriptor.methods.contains { $0.options.hasShop_Api_policy }
        if declaresPolicies {
            for method in descriptor.methods where !method.options.hasShop_Api_policy && !descriptor.options.hasShop_Api_defaultPolicy {
                fail(
                    file, "\(descriptor.name).\(method.name)",
                    "has no call policy while other methods of \(descriptor.name) declare one: add (shop.api.policy) to it or (shop.api.default_policy) to the service"
                )
            }
        }
        return ServiceModel(
            name: descriptor.name,
            fullName: descriptor.fullName,
            file: file,
            comments: descriptor.protoSourceComments(),
            methods: methods
        )
    }

    // MARK: Call policies

    /// The callers of a `(shop.api.policy)` or `(shop.api.default_policy)`,
    /// checked: at least one, each a service name `[a-z][a-z0-9-]*` as in
    /// `spiffe://<domain>/service/<name>`, none twice. `nil` when invalid
    /// (the problems are recorded).
    private mutating func policy(_ policy: Shop_Api_CallPolicy, isMethodOwn: Bool, file: String, element: String, option: String) -> PolicyModel? {
        guard !policy.callers.isEmpty else {
            fail(file, element, "\(option) lists no callers; name at least one service (a policy nobody passes would make the RPC unreachable)")
            return nil
        }
        var valid = true
        var seen: Set<String> = []
        for caller in policy.callers {
            if !Self.isServiceName(caller) {
                fail(file, element, "\(option) caller '\(caller)' is not a service name: expected [a-z][a-z0-9-]*, as in spiffe://<domain>/service/<name>")
                valid = false
            } else if !seen.insert(caller).inserted {
                fail(file, element, "\(option) lists caller '\(caller)' twice")
                valid = false
            }
        }
        return valid ? PolicyModel(callers: seen.sorted(), isMethodOwn: isMethodOwn) : nil
    }

    /// `[a-z][a-z0-9-]*`.
    static func isServiceName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
        }
    }

    // MARK: Methods

    private mutating func method(from descriptor: MethodDescriptor, defaultPolicy: PolicyModel?) -> MethodModel {
        let options = descriptor.options
        let element = "\(descriptor.service.name).\(descriptor.name)"
        if descriptor.clientStreaming {
            fail(descriptor.file.name, element, "client streaming methods are not supported yet")
        }
        var route: RouteModel?
        if options.hasShop_Api_http {
            route = self.route(from: options.Shop_Api_http, for: descriptor, element: element)
        }
        var requestExample: JSONValue?
        var responseExample: JSONValue?
        if options.hasShop_Api_doc {
            let doc = options.Shop_Api_doc
            if route == nil {
                fail(descriptor.file.name, element, "doc examples are for HTTP routes; the method has no http option")
            }
            requestExample = example(doc.requestExample, named: "request_example", file: descriptor.file.name, element: element)
            responseExample = example(doc.responseExample, named: "response_example", file: descriptor.file.name, element: element)
            if requestExample != nil, route?.body == RouteModel.Body.none {
                fail(descriptor.file.name, element, "request_example is given but the route takes no body")
            }
        }
        var policy = defaultPolicy
        if options.hasShop_Api_policy {
            policy = self.policy(options.Shop_Api_policy, isMethodOwn: true, file: descriptor.file.name, element: element, option: "policy")
        }
        return MethodModel(
            name: descriptor.name,
            swiftName: NamingUtils.toLowerCamelCase(descriptor.name),
            wireName: "/\(descriptor.service.fullName)/\(descriptor.name)",
            comments: descriptor.protoSourceComments(),
            input: MessageRef(descriptor: descriptor.inputType, swiftName: namer.fullName(message: descriptor.inputType)),
            output: MessageRef(descriptor: descriptor.outputType, swiftName: namer.fullName(message: descriptor.outputType)),
            serverStreaming: descriptor.serverStreaming,
            idempotent: options.Shop_Api_idempotent,
            defaultDeadlineMilliseconds: options.hasShop_Api_defaultDeadlineMs ? options.Shop_Api_defaultDeadlineMs : nil,
            route: route,
            requestExample: requestExample,
            responseExample: responseExample,
            policy: policy
        )
    }

    // MARK: Documentation

    /// A `(shop.api.doc)` example parsed, or `nil` when empty or malformed
    /// (then an error is recorded).
    private mutating func example(_ text: String, named name: String, file: String, element: String) -> JSONValue? {
        guard !text.isEmpty else { return nil }
        do {
            return try JSONValue.parse(text)
        } catch {
            fail(file, element, "\(name) is \(error)")
            return nil
        }
    }

    /// Every `(shop.api.example)` of the file's messages, nested ones too,
    /// parses and fits its field's type.
    private mutating func checkExamples(in messages: [Descriptor], file: String) {
        for message in messages {
            for field in message.fields {
                if let problem = FieldExample.problem(with: field) {
                    fail(file, "\(message.name).\(field.name)", problem)
                }
            }
            checkExamples(in: message.messages, file: file)
        }
    }

    /// Every `(shop.api.rules)` of the file's messages, nested ones too,
    /// fits its field's type (``FieldRulesModel/problems(with:)``).
    private mutating func checkRules(in messages: [Descriptor], file: String) {
        for message in messages {
            for field in message.fields {
                for problem in FieldRulesModel.problems(with: field) {
                    fail(file, "\(message.name).\(field.name)", problem)
                }
            }
            checkRules(in: message.messages, file: file)
        }
    }

    // MARK: Routes

    private mutating func route(from rule: Shop_Api_HttpRule, for method: MethodDescriptor, element: String) -> RouteModel? {
        let file = method.file.name
        let request = method.inputType!
        let verb: RouteModel.Verb
        let path: String
        switch rule.pattern {
        case .get(let value): (verb, path) = (.get, value)
        case .put(let value): (verb, path) = (.put, value)
        case .post(let value): (verb, path) = (.post, value)
        case .delete(let value): (verb, path) = (.delete, value)
        case .patch(let value): (verb, path) = (.patch, value)
        case nil:
            fail(file, element, "the http option names no verb and path")
            return nil
        }
        guard path.hasPrefix("/") else {
            fail(file, element, "path '\(path)' must start with '/'")
            return nil
        }

        var variables: [String] = []
        for segment in path.split(separator: "/") {
            let hasBrace = segment.contains("{") || segment.contains("}")
            guard hasBrace else { continue }
            guard segment.hasPrefix("{"), segment.hasSuffix("}"), segment.count > 2 else {
                fail(file, element, "path segment '\(segment)' must be a whole variable like '{id}'")
                continue
            }
            let name = String(segment.dropFirst().dropLast())
            if variables.contains(name) {
                fail(file, element, "path variable '{\(name)}' appears twice in '\(path)'")
                continue
            }
            switch resolve(name, in: request) {
            case .success(let field) where !field.isRepeated && field.type != .message && field.type != .bytes:
                variables.append(name)
            case .success:
                fail(file, element, "path variable '{\(name)}' must be a single string, number, bool or enum field of \(request.fullName)")
            case .failure(let problem):
                fail(file, element, "path variable '{\(name)}' is not a field of \(request.fullName): \(problem)")
            }
        }

        let body: RouteModel.Body
        switch rule.body {
        case "":
            body = .none
        case "*":
            body = .all
        case let name:
            if request.fields.contains(where: { $0.name == name }) {
                body = .field(name)
            } else {
                fail(file, element, "body field '\(name)' is not a field of \(request.fullName)")
                body = .none
            }
        }
        if body != .none, verb == .get || verb == .delete {
            fail(file, element, "a \(verb.rawValue.uppercased()) route cannot take a body")
        }
        if method.serverStreaming, verb != .get {
            fail(file, element, "a server-streaming method can only be a GET route (served as Server-Sent Events)")
        }

        let status = rule.successStatus == 0 ? 200 : Int(rule.successStatus)
        if !(200...299).contains(status) {
            fail(file, element, "success_status \(status) is not a 2xx status")
        }

        let auth: RouteModel.Auth
        switch rule.auth {
        case .public: auth = .public
        case .self_: auth = .self
        case .admin: auth = .admin
        case .user, .unspecified, .UNRECOGNIZED: auth = .user
        }
        var ownerField: String?
        if !rule.ownerField.isEmpty {
            if auth != .self {
                fail(file, element, "owner_field is only meaningful with auth SELF")
            }
            switch resolve(rule.ownerField, in: request) {
            case .success(let field) where field.type == .string && !field.isRepeated:
                ownerField = rule.ownerField
            case .success:
                fail(file, element, "owner_field '\(rule.ownerField)' must be a string field")
            case .failure(let problem):
                fail(file, element, "owner_field '\(rule.ownerField)' is not a field of \(request.fullName): \(problem)")
            }
        }

        var responseBody: String?
        if !rule.responseBody.isEmpty {
            if method.outputType.fields.contains(where: { $0.name == rule.responseBody }) {
                responseBody = rule.responseBody
            } else {
                fail(file, element, "response_body field '\(rule.responseBody)' is not a field of \(method.outputType.fullName)")
            }
            if method.serverStreaming {
                fail(file, element, "response_body is not supported on a server-streaming method")
            }
        }

        var query: [QueryParameter] = []
        if body != .all {
            var bound = Set(variables)
            if case .field(let name) = body { bound.insert(name) }
            collectQuery(from: request, prefix: "", bound: bound, depth: 0, into: &query)
        }

        return RouteModel(
            verb: verb,
            path: path,
            pathVariables: variables,
            body: body,
            successStatus: status,
            auth: auth,
            ownerField: ownerField,
            responseBody: responseBody,
            query: query
        )
    }

    /// The field a dotted path names, walking singular message fields.
    private func resolve(_ dottedPath: String, in message: Descriptor) -> Result<FieldDescriptor, PathProblem> {
        var current = message
        let names = dottedPath.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for (index, name) in names.enumerated() {
            guard let field = current.fields.first(where: { $0.name == name }) else {
                return .failure(PathProblem("\(current.fullName) has no field '\(name)'"))
            }
            if index == names.count - 1 { return .success(field) }
            guard field.type == .message, !field.isRepeated else {
                return .failure(PathProblem("'\(name)' is not a message field"))
            }
            current = field.messageType
        }
        return .failure(PathProblem("empty field path"))
    }

    private struct PathProblem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Request fields bound neither by the path nor by the body: scalars,
    /// enums and repeated scalars, nested messages with dotted names.
    private func collectQuery(from message: Descriptor, prefix: String, bound: Set<String>, depth: Int, into query: inout [QueryParameter]) {
        for field in message.fields {
            let name = prefix + field.name
            guard !bound.contains(name), !field.isMap else { continue }
            if field.type == .message {
                guard !field.isRepeated, depth < 3, field.messageType.wellKnownType == nil else { continue }
                collectQuery(from: field.messageType, prefix: name + ".", bound: bound, depth: depth + 1, into: &query)
            } else if let kind = ScalarKind(field) {
                query.append(QueryParameter(name: name, kind: kind, repeated: field.isRepeated))
            }
        }
    }

    private mutating func checkRouteConflicts(_ services: [ServiceModel]) {
        var seen: [String: (file: String, element: String, path: String)] = [:]
        for service in services {
            for method in service.methods {
                guard let route = method.route else { continue }
                let key = "\(route.verb.rawValue.uppercased()) \(route.shape)"
                let element = "\(service.name).\(method.name)"
                if let first = seen[key] {
                    let what = first.path == route.path ? "route \(route.verb.rawValue.uppercased()) \(route.path) is declared twice" :
                        "\(route.verb.rawValue.uppercased()) \(route.path) claims the same verb and path as \(first.path)"
                    fail(service.file, element, "\(what) (first by \(first.element) in \(first.file))")
                } else {
                    seen[key] = (service.file, element, route.path)
                }
            }
        }
    }

    private mutating func checkServiceNames(_ services: [ServiceModel]) {
        var seen: [String: String] = [:]
        for service in services {
            if let other = seen[service.name] {
                fail(service.file, service.name, "a service named \(service.name) is already declared as \(other); generated type names would clash")
            }
            seen[service.name] = service.fullName
        }
    }

    mutating func fail(_ file: String, _ element: String, _ problem: String) {
        errors.append(CodeGenError(file: file, element: element, problem: problem))
    }
}

extension ScalarKind {
    /// The kind of a non-message field, or `nil` for messages and groups.
    init?(_ field: FieldDescriptor) {
        switch field.type {
        case .string: self = .string
        case .bool: self = .bool
        case .int32, .sint32, .sfixed32: self = .int32
        case .uint32, .fixed32: self = .uint32
        case .int64, .sint64, .sfixed64: self = field.options.Shop_Api_money ? .money : .int64
        case .uint64, .fixed64: self = .uint64
        case .double, .float: self = .double
        case .bytes: self = .bytes
        case .enum: self = .enumeration(field.enumType)
        case .message, .group: return nil
        }
    }

    static func enumeration(_ descriptor: EnumDescriptor) -> ScalarKind {
        let prefix = EnumNames.prefix(of: descriptor)
        return .enumeration(
            protoName: descriptor.fullName,
            prefix: prefix,
            values: descriptor.values.map { EnumNames.jsonName(of: $0.name, prefix: prefix) }
        )
    }
}

/// How enum values appear in the REST JSON: `ORDER_STATUS_PAID` in enum
/// `OrderStatus` becomes `paid`.
enum EnumNames {
    /// `ORDER_STATUS_` when every value starts with it, else empty.
    static func prefix(of descriptor: EnumDescriptor) -> String {
        var snake = ""
        for (index, character) in descriptor.name.enumerated() {
            if character.isUppercase, index > 0 { snake += "_" }
            snake += character.uppercased()
        }
        let prefix = snake + "_"
        return descriptor.values.allSatisfy { $0.name.hasPrefix(prefix) && $0.name.count > prefix.count } ? prefix : ""
    }

    static func jsonName(of value: String, prefix: String) -> String {
        String(value.dropFirst(prefix.count)).lowercased()
    }
}

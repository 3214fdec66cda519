/// Renders, per `.proto` file, the typed client, the handler protocol and its
/// registration for each service. The registration checks a request's
/// `(shop.api.rules)` (INVALID_ARGUMENT naming each failing field) before
/// the handler sees it, so every caller is held to them, internal ones too.
struct StubRenderer {
    /// Whether generated code must `import FrameRPC` (false when generating
    /// into the FrameRPC module itself).
    let importFrameRPC: Bool
    let visibility: String
    /// Messages with generated rule checks: a method whose request is one
    /// checks it before its handler runs.
    let checked: RuleCheckedMessages

    func render(file: String, services: [ServiceModel]) -> String {
        var out = SwiftWriter()
        if importFrameRPC {
            out.line("import FrameRPC")
            out.line()
        }
        for (index, service) in services.enumerated() {
            if index > 0 { out.line() }
            renderMethodNames(service, into: &out)
            out.line()
            if service.hasPolicies {
                renderPolicies(service, into: &out)
                out.line()
            }
            renderClient(service, into: &out)
            out.line()
            renderHandler(service, into: &out)
        }
        return SwiftWriter.header(source: file) + "\n" + out.text
    }

    private func renderMethodNames(_ service: ServiceModel, into out: inout SwiftWriter) {
        out.line("/// The wire names of `\(service.fullName)` and its methods.")
        out.block("\(visibility) enum \(service.name)Method") { out in
            out.line("\(visibility) static let serviceName = \(service.fullName.swiftLiteral)")
            for method in service.methods {
                out.line("\(visibility) static let \(method.swiftName) = \(method.wireName.swiftLiteral)")
            }
        }
    }

    /// The policy table: one `CallerPolicy` per method, and all of them by
    /// wire name, for documentation and tests.
    private func renderPolicies(_ service: ServiceModel, into out: inout SwiftWriter) {
        out.line("/// Which verified services may call each method of `\(service.fullName)` over")
        out.line("/// FrameRPC, from `(shop.api.policy)` or the service's `(shop.api.default_policy)`.")
        out.line("/// The registration checks them before a request is decoded.")
        out.block("\(visibility) enum \(service.name)Policy") { out in
            for method in service.methods {
                guard let policy = method.policy else { continue }
                let source = policy.isMethodOwn ? "" : " (the service default)"
                out.line("/// `\(method.name)`: \(policy.callers.joined(separator: ", "))\(source).")
                out.line("\(visibility) static let \(method.swiftName): CallerPolicy = [\(policy.callers.map(\.swiftLiteral).joined(separator: ", "))]")
            }
            out.line()
            out.line("/// Every method's policy, by wire name.")
            out.line("\(visibility) static let byMethod: [String: CallerPolicy] = [")
            out.indented { out in
                for method in service.methods where method.policy != nil {
                    out.line("\(service.name)Method.\(method.swiftName): \(method.swiftName),")
                }
            }
            out.line("]")
        }
    }

    private func renderClient(_ service: ServiceModel, into out: inout SwiftWriter) {
        out.line("/// A typed client for `\(service.fullName)`.")
        if !service.comments.isEmpty {
            out.line("///")
            out.docComment(service.comments)
        }
        out.block("\(visibility) struct \(service.name)Client: Sendable") { out in
            out.line("\(visibility) let rpc: RPCClient")
            out.line()
            out.block("\(visibility) init(_ rpc: RPCClient)") { out in
                out.line("self.rpc = rpc")
            }
            for method in service.methods {
                out.line()
                if !method.comments.isEmpty { out.docComment(method.comments) }
                let options = method.defaultDeadlineMilliseconds.map {
                    "options.defaultingTimeout(to: .milliseconds(\($0)))"
                } ?? "options"
                if method.serverStreaming {
                    out.block("\(visibility) func \(method.swiftName)<Result: Sendable>(_ request: \(method.input.swiftName), options: CallOptions = .defaults, body: (RPCResponseStream<\(method.output.swiftName)>) async throws -> Result) async throws -> Result") { out in
                        out.line("try await rpc.serverStreaming(method: \(service.name)Method.\(method.swiftName), request: request, response: \(method.output.swiftName).self, options: \(options), body: body)")
                    }
                } else {
                    out.block("\(visibility) func \(method.swiftName)(_ request: \(method.input.swiftName), options: CallOptions = .defaults) async throws -> \(method.output.swiftName)") { out in
                        out.line("try await rpc.unary(method: \(service.name)Method.\(method.swiftName), request: request, response: \(method.output.swiftName).self, options: \(options))")
                    }
                }
            }
        }
    }

    private func renderHandler(_ service: ServiceModel, into out: inout SwiftWriter) {
        out.line("/// What a server of `\(service.fullName)` implements. Conforming types are")
        out.line("/// `RPCService`s: pass one to `RPCServer` to serve every method.")
        if service.hasPolicies {
            out.line("///")
            out.line("/// Each method is open only to the verified services of `\(service.name)Policy`;")
            out.line("/// any other peer gets PERMISSION_DENIED before its request is decoded.")
        } else {
            out.line("///")
            out.line("/// The service declares no call policy: any peer may call every method.")
        }
        out.block("\(visibility) protocol \(service.name)Handler: RPCService") { out in
            for (index, method) in service.methods.enumerated() {
                if index > 0 { out.line() }
                if !method.comments.isEmpty { out.docComment(method.comments) }
                if method.serverStreaming {
                    out.line("func \(method.swiftName)(_ request: \(method.input.swiftName), writer: RPCWriter<\(method.output.swiftName)>, context: ServerContext) async throws")
                } else {
                    out.line("func \(method.swiftName)(_ request: \(method.input.swiftName), context: ServerContext) async throws -> \(method.output.swiftName)")
                }
            }
        }
        out.line()
        out.block("extension \(service.name)Handler") { out in
            out.block("\(visibility) func registerMethods(with router: inout RPCRouter)") { out in
                for method in service.methods {
                    let name = "\(service.name)Method.\(method.swiftName)"
                    let policy = method.policy == nil ? "" : ", policy: \(service.name)Policy.\(method.swiftName)"
                    if method.serverStreaming {
                        out.line("router.registerServerStreaming(\(name), request: \(method.input.swiftName).self, response: \(method.output.swiftName).self\(policy)) { request, writer, context in")
                        out.indented { out in
                            if checked.contains(method.input.descriptor) { out.line("try request.checkRulesForCall()") }
                            out.line("try await self.\(method.swiftName)(request, writer: writer, context: context)")
                        }
                        out.line("}")
                    } else {
                        out.line("router.registerUnary(\(name), request: \(method.input.swiftName).self, response: \(method.output.swiftName).self\(policy)) { request, context in")
                        out.indented { out in
                            if checked.contains(method.input.descriptor) { out.line("try request.checkRulesForCall()") }
                            out.line("return try await self.\(method.swiftName)(request, context: context)")
                        }
                        out.line("}")
                    }
                }
            }
        }
    }
}

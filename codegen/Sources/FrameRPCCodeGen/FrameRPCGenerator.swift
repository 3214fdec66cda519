import SwiftProtobuf
import SwiftProtobufPluginLibrary

/// One file the generator writes, relative to the output folder.
public struct GeneratedFile: Hashable {
    public let name: String
    public let content: String
}

/// What the generator is asked to produce, from `--framerpc_opt` pairs.
public struct GeneratorOptions: Hashable {
    /// Name of the route-table type; no route table when `nil`.
    public var routeTable: String?
    /// Where to also write the OpenAPI document as JSON (needs `routeTable`).
    public var openAPIFile: String?
    /// False when the output is compiled into FrameRPC itself.
    public var importFrameRPC = true
    public var visibility = "public"
    /// The OpenAPI title and version when no file declares
    /// `(shop.api.api_info)`; a declared one wins.
    public var title: String?
    public var version: String?

    public init() {}

    /// Options from `key=value` pairs: `RouteTable`, `OpenAPI`, `ImportFrameRPC`,
    /// `Visibility`, `Title`, `Version`.
    public init(pairs: [(key: String, value: String)]) throws {
        for (key, value) in pairs {
            switch key {
            case "RouteTable": routeTable = value
            case "OpenAPI": openAPIFile = value
            case "ImportFrameRPC": importFrameRPC = value != "false"
            case "Visibility": visibility = value.lowercased()
            case "Title": title = value
            case "Version": version = value
            default:
                throw CodeGenErrors(errors: [CodeGenError(file: "(options)", element: key, problem: "unknown generator option")])
            }
        }
    }
}

/// The generator: descriptors in, files out. Deterministic: the same
/// descriptors and options always give the same bytes.
public enum FrameRPCGenerator {
    /// The extensions the generator reads; protoc's request must be parsed
    /// with them, or the options arrive as unknown bytes.
    public static let optionExtensions: [any AnyMessageExtension] = [
        Shop_Api_Extensions_http,
        Shop_Api_Extensions_idempotent,
        Shop_Api_Extensions_default_deadline_ms,
        Shop_Api_Extensions_policy,
        Shop_Api_Extensions_default_policy,
        Shop_Api_Extensions_money,
        Shop_Api_Extensions_rules,
        Shop_Api_Extensions_doc,
        Shop_Api_Extensions_example,
        Shop_Api_Extensions_api_info,
    ]

    public static func generate(files: [FileDescriptor], options: GeneratorOptions) throws -> [GeneratedFile] {
        var builder = ModelBuilder()
        let services = builder.services(in: files)
        let info = options.routeTable == nil ? nil : builder.apiInfo(in: files, options: options)
        if !builder.errors.isEmpty { throw CodeGenErrors(errors: builder.errors) }

        var output: [GeneratedFile] = []
        let checked = RuleCheckedMessages(files: files)
        let stubs = StubRenderer(importFrameRPC: options.importFrameRPC, visibility: options.visibility, checked: checked)
        let validation = ValidationRenderer(visibility: options.visibility, importFrameRPC: options.importFrameRPC)
        for file in files {
            let base = file.name.hasSuffix(".proto") ? String(file.name.dropLast(6)) : file.name
            let fileServices = services.filter { $0.file == file.name }
            if !fileServices.isEmpty {
                output.append(GeneratedFile(name: base + ".framerpc.swift", content: stubs.render(file: file.name, services: fileServices)))
            }
            if let rules = validation.render(file: file, checked: checked) {
                output.append(GeneratedFile(name: base + ".rules.swift", content: rules))
            }
        }

        if let routeTable = options.routeTable {
            let routed = services.filter { $0.methods.contains { $0.route != nil } }
            let roots = routed.flatMap { $0.methods.compactMap { method in method.route.map { _ in [method.input.descriptor, method.output.descriptor] } } }.flatMap { $0 }
            let shapes = ShapeCollector.shapes(from: roots)
            let (messages, problems) = RESTCodecRenderer.messages(from: roots)
            if !problems.isEmpty { throw CodeGenErrors(errors: problems) }
            let openAPI = OpenAPIRenderer(info: info ?? APIInfo(title: "", version: "")).render(services: routed, shapes: shapes)
            let sources = files.filter { file in routed.contains { $0.file == file.name } }.map(\.name)
            let table = RouteTableRenderer(typeName: routeTable, visibility: options.visibility, checked: checked)
                .render(services: routed, messages: messages, openAPI: openAPI, sources: sources.isEmpty ? ["(no routed services)"] : sources)
            output.append(GeneratedFile(name: routeTable + ".swift", content: table))
            if let openAPIFile = options.openAPIFile {
                output.append(GeneratedFile(name: openAPIFile, content: openAPI))
            }
        }
        return output
    }
}

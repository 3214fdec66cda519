import Foundation
import FrameRPCCodeGen
import Testing

/// One input compiled as `codegen/generate` compiles it, with its goldens in
/// `Goldens/<name>/`.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    let name: String
    let proto: String
    let options: [String: String]

    var testDescription: String { name }

    var goldens: URL { Fixtures.goldens.appendingPathComponent(name) }

    func generate() throws -> [GeneratedFile] {
        let input = try CompiledInput(name, proto: proto)
        let pairs = options.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
        return try input.generate(GeneratorOptions(pairs: pairs))
    }

    /// The demo service, with the options `codegen/generate` passes for it.
    static let library = GoldenCase(
        name: "library",
        proto: "demo/library/v1/library.proto",
        options: ["RouteTable": "DemoRoutes", "OpenAPI": "openapi.json", "Title": "demo library"]
    )

    /// The health service, compiled into FrameRPC itself.
    static let health = GoldenCase(
        name: "health",
        proto: "framerpc/health/v1/health.proto",
        options: ["ImportFrameRPC": "false"]
    )

    /// A service with call policies: the policy table and the enforcing
    /// registration.
    static let guarded = GoldenCase(
        name: "guarded",
        proto: "guarded/vault.proto",
        options: ["RouteTable": "GuardedRoutes", "Title": "guarded vault"]
    )

    /// A service whose request has one field per `(shop.api.rules)` kind:
    /// the validation function, the checks before handler and call, the
    /// OpenAPI constraints.
    static let checked = GoldenCase(
        name: "checked",
        proto: "checked/signup.proto",
        options: ["RouteTable": "CheckedRoutes", "OpenAPI": "openapi.json", "Title": "checked signups"]
    )

    static let all = [library, health, guarded, checked]
}

/// The generator's output for the checked-in inputs, byte for byte. After an
/// intended change to the output, run `codegen/update-goldens` and review the diff.
@Suite("Golden outputs")
struct GoldenTests {
    @Test("every generated file matches its golden byte for byte", arguments: GoldenCase.all)
    func generatedFilesMatchGoldens(_ golden: GoldenCase) throws {
        let output = try golden.generate()
        if Fixtures.updatingGoldens {
            try? FileManager.default.removeItem(at: golden.goldens)
            for file in output {
                let url = golden.goldens.appendingPathComponent(file.name)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.content.utf8).write(to: url)
            }
            return
        }
        for file in output {
            let url = golden.goldens.appendingPathComponent(file.name)
            guard let expected = FileManager.default.contents(atPath: url.path) else {
                Issue.record("\(golden.name): no golden for \(file.name); run codegen/update-goldens")
                continue
            }
            let actual = Data(file.content.utf8)
            #expect(
                actual == expected,
                "\(golden.name)/\(file.name) differs from its golden at \(Fixtures.firstDifference(file.content, String(decoding: expected, as: UTF8.self)))"
            )
        }
    }

    @Test("the generator writes exactly the golden files, none missing or extra", arguments: GoldenCase.all)
    func generatedFileNamesMatchGoldenFileNames(_ golden: GoldenCase) throws {
        guard !Fixtures.updatingGoldens else { return }
        let generated = try golden.generate().map(\.name).sorted()
        let goldens = Fixtures.files(under: golden.goldens)
        #expect(!goldens.isEmpty, "no goldens in \(golden.goldens.path); run codegen/update-goldens")
        #expect(generated == goldens)
    }

    @Test("generating twice from the same input gives identical bytes", arguments: GoldenCase.all)
    func outputIsDeterministic(_ golden: GoldenCase) throws {
        let first = try golden.generate()
        let second = try golden.generate()
        #expect(first.map(\.name) == second.map(\.name))
        #expect(first.map { Data($0.content.utf8) } == second.map { Data($0.content.utf8) })
    }
}

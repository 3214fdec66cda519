import Foundation
import FrameRPCCodeGen
import SwiftProtobuf
import SwiftProtobufPluginLibrary

/// A checked-in descriptor set from `Inputs/` (written by `codegen/update-goldens`
/// with protoc, so the tests need no protoc) and the file in it to generate.
struct CompiledInput {
    /// Kept alive with the files: descriptors refer to each other (and to
    /// imported files) without owning them.
    let descriptors: DescriptorSet
    /// What protoc would hand the plugin: the input file, not its imports.
    let files: [FileDescriptor]

    /// Loads `Inputs/<name>.pb` and picks `proto` from it.
    init(_ name: String, proto: String) throws {
        let url = Fixtures.inputs.appendingPathComponent(name + ".pb")
        let data = try Data(contentsOf: url)
        var extensions = SimpleExtensionMap()
        extensions.insert(contentsOf: FrameRPCGenerator.optionExtensions)
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: data, extensions: extensions)
        descriptors = DescriptorSet(protos: set.file)
        guard let file = descriptors.fileDescriptor(named: proto) else {
            throw FixtureError("\(url.path) holds no \(proto); run codegen/update-goldens")
        }
        files = [file]
    }

    func generate(_ options: GeneratorOptions) throws -> [GeneratedFile] {
        try withExtendedLifetime(descriptors) {
            try FrameRPCGenerator.generate(files: files, options: options)
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Fixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let inputs = folder.appendingPathComponent("Inputs")
    static let goldens = folder.appendingPathComponent("Goldens")

    /// `UPDATE_GOLDENS=1`: golden tests write the generator's output instead
    /// of comparing it (see `codegen/update-goldens`).
    static var updatingGoldens: Bool { ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" }

    /// Every regular file under `folder`, by path relative to it, sorted.
    static func files(under folder: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var names: [String] = []
        while let name = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isDirectory)
            if exists, !isDirectory.boolValue { names.append(name) }
        }
        return names.sorted()
    }

    /// Where two texts first differ, for a readable failure message.
    static func firstDifference(_ actual: String, _ expected: String) -> String {
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(actualLines.count, expectedLines.count) {
            let got = index < actualLines.count ? String(actualLines[index]) : "(end of output)"
            let want = index < expectedLines.count ? String(expectedLines[index]) : "(end of golden)"
            if got != want {
                return "line \(index + 1):\n  generated: \(got)\n  golden:    \(want)"
            }
        }
        return "no line differs (line endings or encoding?)"
    }
}

import FrameRPCCodeGen
import SwiftProtobuf
import SwiftProtobufPluginLibrary

/// `protoc-gen-framerpc`: protoc's front end to ``FrameRPCGenerator``.
///
///     protoc --plugin=protoc-gen-framerpc=PATH --framerpc_out=DIR \
///            --framerpc_opt=RouteTable=ShopRoutes,OpenAPI=openapi.json FILES
@main
struct FrameRPCPlugin: CodeGenerator {
    func generate(
        files: [FileDescriptor],
        parameter: any CodeGeneratorParameter,
        protoCompilerContext: any ProtoCompilerContext,
        generatorOutputs: any GeneratorOutputs
    ) throws {
        let options = try GeneratorOptions(pairs: parameter.parsedPairs)
        for file in try FrameRPCGenerator.generate(files: files, options: options) {
            try generatorOutputs.add(fileName: file.name, contents: file.content)
        }
    }

    var customOptionExtensions: [any AnyMessageExtension] { FrameRPCGenerator.optionExtensions }

    var supportedFeatures: [Google_Protobuf_Compiler_CodeGeneratorResponse.Feature] { [.proto3Optional] }

    var version: String? { "1.0.0" }

    var projectURL: String? { "codegen/ in this repository" }
}

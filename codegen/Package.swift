// swift-tools-version:6.0
// The code generator's own package, kept apart so that building or testing
// the main package never compiles it. For now it only pins and builds
// `protoc-gen-swift`; the FrameRPC plugin joins it with the generator issue.
import PackageDescription

let package = Package(
    name: "codegen",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    ],
    targets: []
)

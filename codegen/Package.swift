// swift-tools-version:6.0
// The code generator, in its own package so that building or testing the main
// package never compiles it. `generate` (beside this file) builds it and runs
// protoc with it.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "codegen",
    products: [
        .executable(name: "protoc-gen-framerpc", targets: ["protoc-gen-framerpc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    ],
    targets: [
        // Descriptors -> a model of services, methods and routes -> Swift and OpenAPI text.
        .target(
            name: "FrameRPCCodeGen",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "SwiftProtobufPluginLibrary", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // The protoc plugin: a thin front end over FrameRPCCodeGen.
        .executableTarget(
            name: "protoc-gen-framerpc",
            dependencies: [
                "FrameRPCCodeGen",
                .product(name: "SwiftProtobufPluginLibrary", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FrameRPCCodeGenTests",
            dependencies: [
                "FrameRPCCodeGen",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "SwiftProtobufPluginLibrary", package: "swift-protobuf"),
            ],
            exclude: ["Inputs", "Goldens"],
            swiftSettings: swiftSettings
        ),
    ]
)

// swift-tools-version:6.0
import PackageDescription

/// One set of settings for every target: Swift 6 language mode with strict
/// concurrency (the default in 6) and explicit `any` for existentials.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "shop",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FrameRPC", targets: ["FrameRPC"]),
        .library(name: "RESTTranscoding", targets: ["RESTTranscoding"]),
        .library(name: "ShopAPI", targets: ["ShopAPI"]),
        .executable(name: "framerpc-bench", targets: ["FrameRPCBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // The RPC runtime: wire format, server, client. Knows nothing about shops.
        .target(
            name: "FrameRPC",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the generated route table is made of: routes and JSON shapes.
        .target(
            name: "RESTTranscoding",
            dependencies: [
                "FrameRPC",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // Generated code only: the shop's messages, clients, handler
        // protocols, the gateway's route table and the OpenAPI document.
        .target(
            name: "ShopAPI",
            dependencies: [
                "FrameRPC",
                "RESTTranscoding",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Generated/openapi.json"],
            swiftSettings: swiftSettings
        ),
        // Release-mode benchmark: FrameRPC against a raw NIO echo floor.
        .executableTarget(
            name: "FrameRPCBench",
            dependencies: [
                "FrameRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The generator's output, compiled and run: stubs over a real
        // connection, the route table, the OpenAPI document.
        .testTarget(
            name: "GeneratedCodeTests",
            dependencies: [
                "FrameRPC",
                "RESTTranscoding",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Generated/openapi.json"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FrameRPCTests",
            dependencies: [
                "FrameRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// swift-tools-version:6.0
import PackageDescription

/// One set of settings for every target: Swift 6 language mode with strict
/// concurrency (the default in 6) and explicit `any` for existentials.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// What every service library builds on.
let serviceDependencies: [Target.Dependency] = [
    "ShopAPI",
    "ShopStorage",
    "FrameRPC",
    "ServiceSupport",
    "ShopObservability",
    .product(name: "GRDB", package: "GRDB.swift"),
    .product(name: "Logging", package: "swift-log"),
    .product(name: "Metrics", package: "swift-metrics"),
    .product(name: "Tracing", package: "swift-distributed-tracing"),
    .product(name: "SwiftProtobuf", package: "swift-protobuf"),
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
]

let package = Package(
    name: "shop",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FrameRPC", targets: ["FrameRPC"]),
        // For Benchmarks/ (its mTLS rows' throwaway CA); nothing else outside uses it.
        .library(name: "ShopCertificates", targets: ["ShopCertificates"]),
        .library(name: "RESTTranscoding", targets: ["RESTTranscoding"]),
        .library(name: "ShopAPI", targets: ["ShopAPI"]),
        .executable(name: "shop", targets: ["shop"]),
        .executable(name: "framerpc-bench", targets: ["FrameRPCBench"]),
        .executable(name: "gateway-bench-floor", targets: ["GatewayBenchFloor"]),
        .executable(name: "json-bench", targets: ["JSONBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // HTTPRequestPart/HTTPResponsePart for the gateway's connection guard.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // gzip and deflate at the gateway: responses out, request bodies in.
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        // YAML parsing for DeploymentTests only; nothing that ships links it.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        // The notification service's webhooks and email templates.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // PostgreSQL for replicas (SHOP_DATABASE_URL); SQLite stays on GRDB.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // The RPC runtime: wire format, server, client. Knows nothing about shops.
        .target(
            name: "FrameRPC",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // A throwaway certificate authority and per-service leaf certificates
        // (URI SAN spiffe://shop.local/service/<name>) as PEM files, for
        // `shop certs`, `shop up`'s dev mode and the test fixtures. Knows
        // nothing about RPC.
        .target(
            name: "ShopCertificates",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // JSON log lines, W3C trace context and the process's metrics
        // registry: what every process bootstraps. Knows nothing about RPC.
        .target(
            name: "ShopObservability",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // FrameRPC interceptors for traces, metrics and call logs.
        .target(
            name: "FrameRPCObservability",
            dependencies: [
                "FrameRPC",
                "ShopObservability",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the generated route table is made of: routes, typed REST reading and writing.
        .target(
            name: "RESTTranscoding",
            dependencies: [
                "FrameRPC",
                .product(name: "NIOCore", package: "swift-nio"),
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
        // One SQL interface over two backends: SQLite (GRDB) and PostgreSQL
        // (postgres-nio): transactions, bound parameters, rows, migrations
        // under a lock, and the few dialect differences. Knows nothing about shops.
        .target(
            name: "ShopStorage",
            dependencies: [
                "FrameRPC",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // Its ConnectionPoolError (the pool's own failures) is not re-exported.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What every service shares: its database, caller identity, validation.
        .target(
            name: "ServiceSupport",
            dependencies: [
                "FrameRPC",
                "ShopStorage",
                "ShopAuth",
                "ShopObservability",
                "FrameRPCObservability",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support for the services' contract suites: services in this
        // process on ephemeral ports, or `shop serve` child processes.
        .target(
            name: "ServiceTesting",
            dependencies: [
                "FrameRPC",
                "ShopAuth",
                "ServiceSupport",
                "ShopCertificates",
                "Supervisor",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Token signing and verification, shared by the user service (issues)
        // and the gateway (verifies).
        .target(
            name: "ShopAuth",
            dependencies: [
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "UserService",
            dependencies: serviceDependencies + [
                "ShopAuth",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "ProductService", dependencies: serviceDependencies, swiftSettings: swiftSettings),
        .target(name: "InventoryService", dependencies: serviceDependencies, swiftSettings: swiftSettings),
        .target(
            name: "OrderService",
            // Crypto: the SHA-256 of idempotency fingerprints.
            dependencies: serviceDependencies + [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // An SMTP client on SwiftNIO (reply parser and dialogue as pure
        // state machines, STARTTLS, AUTH) and a MIME message builder.
        // Knows nothing about shops.
        .target(
            name: "ShopMail",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShopMailTests",
            dependencies: ["ShopMail"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NotificationService",
            dependencies: serviceDependencies + [
                "ShopMail",
                "ShopAuth",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            // Compiled into the binary (PackageResources), so no resource
            // bundle has to travel with the executable (EmailTemplates).
            resources: ["layout", "text", "generic", "order_confirmed", "order_cancelled", "order_cancelled_out_of_stock", "order_shipped", "order_delivered"]
                .map { .embedInCode("Templates/\($0).mustache") },
            swiftSettings: swiftSettings
        ),
        // The HTTP front door: the REST API of the route table, on Hummingbird.
        .target(
            name: "Gateway",
            dependencies: [
                "ShopAPI",
                "FrameRPC",
                "RESTTranscoding",
                "ShopAuth",
                "ServiceSupport",
                "ShopObservability",
                "FrameRPCObservability",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway",
                "ShopAPI",
                "FrameRPC",
                "RESTTranscoding",
                "ShopAuth",
                "ServiceSupport",
                "ServiceTesting",
                "Supervisor",
                "UserService",
                "ProductService",
                "InventoryService",
                "OrderService",
                "NotificationService",
                "ShopObservability",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                "ShopCertificates",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // `shop up`'s engine: child processes, readiness, restarts, ordered
        // shutdown. Knows the system's layout, none of its code.
        .target(
            name: "Supervisor",
            dependencies: [
                "FrameRPC",
                "ShopAuth",
                "ShopCertificates",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SupervisorTests",
            dependencies: [
                "Supervisor",
                "ShopCertificates",
                .product(name: "X509", package: "swift-certificates"),
                "FrameRPC",
                "ShopAPI",
                "ShopAuth",
                "ServiceSupport",
                "ServiceTesting",
            ],
            swiftSettings: swiftSettings
        ),
        // The deployment files (Dockerfile, compose.yaml, deploy/kubernetes)
        // parsed and checked against the code's real ports and variables.
        .testTarget(
            name: "DeploymentTests",
            dependencies: [
                "FrameRPC",
                "Gateway",
                "ShopAPI",
                "ShopAuth",
                "Supervisor",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one executable: `shop up`, `shop serve`, `shop gateway`, `shop health`.
        .executableTarget(
            name: "shop",
            dependencies: [
                "Supervisor",
                "FrameRPC",
                "ServiceSupport",
                "UserService",
                "ProductService",
                "InventoryService",
                "OrderService",
                "NotificationService",
                "Gateway",
                "ShopAuth",
                "ShopCertificates",
                "ShopObservability",
                "ShopStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The gateway benchmark's floor (bench/gateway-bench.sh): a bare
        // Hummingbird route answering a product from memory.
        .executableTarget(
            name: "GatewayBenchFloor",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Release-mode benchmark: what worst-case 1 MiB JSON bodies cost the
        // gateway's parser and transcoder, beside Foundation's JSONSerialization.
        .executableTarget(
            name: "JSONBench",
            dependencies: ["RESTTranscoding", "ShopAPI", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // Release-mode benchmark: FrameRPC against a raw NIO echo floor.
        .executableTarget(
            name: "FrameRPCBench",
            dependencies: [
                "FrameRPC",
                "ShopCertificates",
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
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Generated/openapi.json"],
            swiftSettings: swiftSettings
        ),
        // The JSON log handler, trace context parsing, and the FrameRPC
        // interceptors over real sockets.
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "ShopObservability",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "FrameRPCObservability",
                "FrameRPC",
                "ServiceTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // The storage layer on both backends (SQLite files and a throwaway
        // PostgreSQL server), and the PostgreSQL test fixture itself.
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "ShopStorage",
                "ServiceSupport",
                "ServiceTesting",
                "Supervisor",
                "FrameRPC",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FrameRPCTests",
            dependencies: [
                "FrameRPC",
                "ShopCertificates",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ] + ["User", "Product", "Inventory", "Order", "Notification"].map { name in
        // Each service's contract suite: the real service over real TCP,
        // driven through the generated client.
        .testTarget(
            name: "\(name)ServiceTests",
            // The order suite runs the four services it calls beside it.
            dependencies: Array(Set(["\(name)Service", "UserService", "ProductService", "InventoryService", "NotificationService"]))
                .sorted().map { Target.Dependency.target(name: $0) } + [
                "ShopAPI",
                "FrameRPC",
                "ServiceSupport",
                "ServiceTesting",
                "ShopObservability",
                .product(name: "GRDB", package: "GRDB.swift"),
            ] + (name == "Notification" ? [
                // Real SMTP (aiosmtpd) and webhook receivers, `shop up` as a process.
                "ShopMail",
                "Supervisor",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ] : []),
            exclude: name == "Notification" ? ["Fixtures"] : [],
            swiftSettings: swiftSettings
        )
    }
)

// swift-tools-version: 6.1
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "pinpost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pinpost", targets: ["pinpost"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        // For board/bench/micro (the microbenchmarks live outside this package to keep CI's build lean).
        .library(name: "PinpostAgent", targets: ["PinpostAgent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // MARK: C boundary
        .systemLibrary(
            name: "CPinpostOpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "CPinpostOpenSSLShims",
            dependencies: ["CPinpostOpenSSL"],
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .systemLibrary(
            name: "CPinpostGPIOD",
            pkgConfig: "libgpiod",
            providers: [.apt(["libgpiod-dev"])]
        ),
        .target(
            name: "CPinpostGPIODShims",
            dependencies: ["CPinpostGPIOD"],
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "CPinpostLinux",
            cSettings: [.define("_GNU_SOURCE")]
        ),

        // MARK: Pure logic
        .target(name: "MQTT", swiftSettings: strictSwift),
        .target(name: "Timestamps", swiftSettings: strictSwift),

        // MARK: Domain modules
        .target(
            name: "TLS",
            dependencies: [
                "CPinpostOpenSSL",
                "CPinpostOpenSSLShims",
                "Timestamps",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "GPIO",
            dependencies: ["CPinpostGPIODShims"],
            swiftSettings: strictSwift
        ),
        .target(
            name: "PinpostAgent",
            dependencies: [
                "MQTT", "TLS", "GPIO", "Timestamps", "CPinpostLinux",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "pinpost",
            dependencies: [
                "PinpostAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),

        // MARK: Tests
        .testTarget(name: "MQTTTests", dependencies: ["MQTT"], exclude: ["NORMATIVE.md"], swiftSettings: strictSwift),
        .testTarget(name: "GPIOTests", dependencies: ["GPIO"], swiftSettings: strictSwift),
        .testTarget(name: "TLSTests", dependencies: ["TLS"], swiftSettings: strictSwift),
        .testTarget(name: "TimestampsTests", dependencies: ["Timestamps"], swiftSettings: strictSwift),
        .testTarget(
            name: "PinpostAgentTests",
            dependencies: ["PinpostAgent", "MQTT", "GPIO", "Timestamps"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["PinpostAgent", "MQTT", "CPinpostLinux"],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)

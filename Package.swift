// swift-tools-version: 6.1
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// The module graph is the architecture: a module that must not know MQTT (the spool, the clock,
// GPIO) is a target without that dependency, so the compiler refuses the shortcut. README's Layout
// section draws the graph and lists the rules it enforces.
let package = Package(
    name: "pinpost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pinpost", targets: ["pinpost"]),
        .executable(name: "pinpost-ca", targets: ["pinpost-ca"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        // For board/bench/micro (the microbenchmarks live outside this package to keep CI's build lean).
        .library(name: "DurableSpool", targets: ["DurableSpool"]),
        .library(name: "Publisher", targets: ["Publisher"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-numerics.git", from: "1.1.0"),
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
        /// CRC-32C by the CPU's instruction (SSE 4.2, ARMv8 CRC), for the spool's record checksums.
        .target(name: "CPinpostCRC32C"),
        /// The `pinpost` executable's malloc policy (one arena), set by a constructor before main.
        .target(name: "CPinpostHeapPolicy"),

        // MARK: Pure logic (no I/O, no Foundation)
        .target(name: "MQTT", swiftSettings: strictSwift),
        .target(name: "Timestamps", swiftSettings: strictSwift),
        /// The publisher's state machine: spool records, bytes and time in; writes, acknowledgements,
        /// timers and notifications out. Knows MQTT and the spool's record type, never a socket.
        .target(
            name: "Publisher",
            dependencies: ["MQTT", "DurableSpool"],
            swiftSettings: strictSwift
        ),

        // MARK: The POSIX layer
        /// What swift-system lacks (directory listing, whole-file reads and atomic replaces, unix
        /// sockets, spawning helpers with closed descriptors, poll, threads, inotify, timerfd, adjtimex,
        /// clocks); the only Swift module besides the C shims that calls Glibc, and the only one with an
        /// EINTR loop. Debug builds can inject EINTR into its calls (`InterruptInjection`), as swift-system
        /// mocks its own.
        .target(
            name: "SystemExtras",
            dependencies: [
                "CPinpostLinux", "Timestamps",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSwift + [.define("ENABLE_MOCKING", .when(configuration: .debug))]
        ),

        // MARK: Domain modules
        .target(
            name: "TLS",
            dependencies: [
                "CPinpostOpenSSL",
                "CPinpostOpenSSLShims",
                "SystemExtras",
                "Timestamps",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "GPIO",
            dependencies: [
                "CPinpostGPIODShims", "SystemExtras",
                .product(name: "SystemPackage", package: "swift-system"),
                // sin and log for the simulated waveforms, without importing Glibc.
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: strictSwift
        ),
        /// The durable spool: readings on disk until acknowledged. Knows nothing of MQTT.
        .target(
            name: "DurableSpool",
            dependencies: [
                "CPinpostCRC32C", "SystemExtras",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift
        ),
        /// Whether the wall clock can be trusted (adjtimex, timesyncd, timedatectl, the floor).
        .target(
            name: "ClockTrust",
            dependencies: [
                "CPinpostLinux", "SystemExtras", "TLS", "Timestamps",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        /// Signed, chained and optionally encrypted readings (JWS ES256, JWE ECDH-ES + A256GCM): the agent's
        /// sealer and `pinpost verify`'s verifier share the format. Crypto through TLS (the system OpenSSL).
        .target(
            name: "ReadingProof",
            dependencies: ["TLS", "DurableSpool"],
            swiftSettings: strictSwift
        ),
        .target(
            name: "PinpostAgent",
            dependencies: [
                "MQTT", "TLS", "GPIO", "Timestamps", "SystemExtras", "DurableSpool", "ClockTrust", "Publisher",
                "ReadingProof",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSwift
        ),
        /// `pinpost install-bundle`: a factory bundle checked with the agent's own code (chain and key
        /// through TLS, the config through ConfigLoader) before anything is written, then installed
        /// file by file with rename. Not part of the running agent.
        .target(
            name: "BundleInstall",
            dependencies: [
                "PinpostAgent", "TLS", "SystemExtras",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSwift
        ),
        /// `pinpost bench`: the agent's own pipeline measured from inside; not part of the agent.
        .target(
            name: "PinpostBench",
            dependencies: [
                "PinpostAgent", "DurableSpool", "GPIO", "MQTT", "SystemExtras", "Timestamps", "TLS", "ClockTrust",
                "ReadingProof",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        /// The CA's MQTT responder (`pinpost-ca serve`): answers certificate requests with the factory CA
        /// (signing through provisioning/pinpost-pki), keeps the registry, the rate limit, the audit log and the CRL.
        .target(
            name: "CertificateAuthority",
            dependencies: [
                "PinpostAgent", "MQTT", "TLS", "SystemExtras", "Timestamps",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "pinpost-ca",
            dependencies: [
                "CertificateAuthority", "PinpostAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "pinpost",
            dependencies: [
                "PinpostAgent", "PinpostBench", "SystemExtras", "BundleInstall", "ReadingProof", "TLS",
                "CPinpostHeapPolicy",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),

        // MARK: Tests
        .testTarget(
            name: "MQTTTests",
            dependencies: ["MQTT"],
            exclude: ["NORMATIVE.md"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "SystemExtrasTests",
            dependencies: ["SystemExtras", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSwift + [.define("ENABLE_MOCKING", .when(configuration: .debug))]
        ),
        .testTarget(name: "GPIOTests", dependencies: ["GPIO"], swiftSettings: strictSwift),
        .testTarget(name: "TLSTests", dependencies: ["TLS"], swiftSettings: strictSwift),
        .testTarget(name: "TimestampsTests", dependencies: ["Timestamps"], swiftSettings: strictSwift),
        .testTarget(
            name: "PublisherTests",
            dependencies: ["Publisher", "MQTT", "DurableSpool"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "DurableSpoolTests",
            dependencies: ["DurableSpool", "SystemExtras", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "PinpostAgentTests",
            dependencies: [
                "PinpostAgent", "MQTT", "GPIO", "Timestamps", "DurableSpool", "ClockTrust", "Publisher", "SystemExtras",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ReadingProofTests",
            dependencies: ["ReadingProof", "TLS", "DurableSpool"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BundleInstallTests",
            dependencies: ["BundleInstall", "PinpostAgent", "TLS", "SystemExtras"],
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

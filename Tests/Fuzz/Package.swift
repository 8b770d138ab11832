// swift-tools-version: 6.1
// libFuzzer harness for the pure MQTT module, kept out of the main package so `swift build` / `swift test`
// never see fuzzer flags. `Sources/MQTT` is a symlink to the main package's module: the same sources, no
// dependencies to resolve. Build and run with `Tests/Fuzz/run`.
import PackageDescription

let package = Package(
    name: "pinpost-fuzz",
    products: [.executable(name: "MQTTFuzz", targets: ["MQTTFuzz"])],
    targets: [
        .target(name: "MQTT"),
        .executableTarget(name: "MQTTFuzz", dependencies: ["MQTT"]),
    ],
    swiftLanguageModes: [.v6]
)

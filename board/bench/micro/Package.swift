// swift-tools-version: 6.1
// Microbenchmarks for Pinpost's hot paths (codec, session state machine, spool) with ordo-one's
// package-benchmark, kept out of the main package so CI's build stays lean.
//   cd board/bench/micro && swift package benchmark
import PackageDescription

let package = Package(
    name: "pinpost-micro",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "pinpost", path: "../../.."),
        // MallocInterposer counts allocations without jemalloc; leaving out the default
        // RuntimeInterposer trait also drops swift-runtime-interposer, which is not needed here.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "PinpostMicro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MQTT", package: "pinpost"),
                .product(name: "DurableSpool", package: "pinpost"),
                .product(name: "Publisher", package: "pinpost"),
            ],
            path: "Benchmarks/PinpostMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)

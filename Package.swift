// swift-tools-version: 6.0
import PackageDescription

// Layering: KioskApp (composition root) → adapters (Inference, Camera, …) → KioskCore (domain).
// Adapters never import each other; C libraries are reached only through one C… target each.
let package = Package(
    name: "WasteKiosk",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kiosk", targets: ["KioskApp"]),
        .executable(name: "kiosk-central", targets: ["KioskCentral"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        // Imported by kiosk-central directly, so declared; the versions hummingbird resolves to here.
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
    ],
    targets: [
        // C libraries, one target each.
        .systemLibrary(name: "CXNNPack", providers: [.apt(["libxnnpack-dev", "libpthreadpool-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // libjpeg's own decoder behind a setjmp, for JPEGs TurboJPEG's header call refuses.
        .target(name: "CJPEGFallback", linkerSettings: [.linkedLibrary("jpeg")]),
        .systemLibrary(name: "CV4L2"),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CSDL2", providers: [.apt(["libsdl2-dev", "libsdl2-ttf-dev"])]),
        .systemLibrary(name: "CFontconfig", pkgConfig: "fontconfig", providers: [.apt(["libfontconfig-dev"])]),
        .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),

        // The domain: categories, catalogue, classification results, protocols.
        .target(
            name: "KioskCore",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        // Image decoding (JPEG, PNG) and resampling, shared by the camera and the engine.
        .target(
            name: "Imaging",
            dependencies: ["KioskCore", "CTurboJPEG", "CJPEGFallback", "CPNG"]
        ),
        // The int8 ResNet engine: ONNX import, quantization, model file, XNNPACK and OpenBLAS backends.
        .target(
            name: "Inference",
            dependencies: [
                "KioskCore", "Imaging", "CXNNPack", "COpenBLAS",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["ONNX/onnx.proto"]
        ),
        // V4L2 capture (the tray camera) and the replay source, behind KioskCore's FrameSource.
        .target(
            name: "Camera",
            dependencies: ["KioskCore", "Imaging", "CV4L2", .product(name: "Logging", package: "swift-log")]
        ),
        // A thin owner of libsqlite3 connections and statements, for the kiosk's store and the server's.
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        // What crosses between kiosk and server: record batches and answers, the signed offline bundle.
        .target(
            name: "SyncWire",
            dependencies: ["KioskCore", "CZlib", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The screens' logic without SDL: the state machine, layout and hit-testing, texts, the empty-tray check.
        .target(name: "Screens", dependencies: ["KioskCore"]),
        // The touchscreen app on SDL2: the main loop, drawing, fonts, and the engine and record threads it feeds.
        .target(
            name: "Touchscreen",
            dependencies: [
                "Screens", "KioskCore", "Imaging", "CSDL2", "CFontconfig", "CQRencode",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // sd_notify (readiness, watchdog) for the services systemd runs.
        .target(name: "Systemd"),
        // Scan records on the kiosk (SQLite), the outbox and the sync with the central server.
        .target(
            name: "Sync",
            dependencies: [
                "KioskCore", "SQLite", "SyncWire", "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The central server's rules and storage (no HTTP here).
        .target(
            name: "Central",
            dependencies: [
                "KioskCore", "SQLite", "SyncWire", "Imaging", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `kiosk-central`: the city's server (Hummingbird) and its admin commands.
        .executableTarget(
            name: "KioskCentral",
            dependencies: [
                "Central", "SyncWire", "KioskCore", "Imaging", "Inference",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "KioskApp",
            dependencies: [
                "KioskCore", "Imaging", "Inference", "Camera", "SQLite", "Sync", "SyncWire", "Systemd", "Screens",
                "Touchscreen",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Runs inside a QEMU guest against the vivid driver's /dev/video0 (scripts/vm/camera-check).
        .executableTarget(
            name: "camera-vm-check",
            dependencies: ["Camera", "KioskCore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/CameraVM"
        ),
        .target(name: "CLibFuzzer"),
        // Fuzz targets for every parser of outside input (scripts/fuzz), and their corpus replay (scripts/test).
        .executableTarget(
            name: "kiosk-fuzz",
            dependencies: [
                "CLibFuzzer", "Imaging", "Inference", "Camera", "SyncWire", "KioskCore",
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/KioskFuzz"
        ),
        // Appends records until killed; the power-loss test's writer.
        .executableTarget(name: "record-writer", dependencies: ["Sync", "KioskCore"], path: "Tests/RecordWriter"),
        // Measures the touchscreen loop: tap-to-answer latency, frame times, memory over many scans.
        .executableTarget(
            name: "screen-bench",
            dependencies: ["Touchscreen", "Screens", "Camera", "Inference", "Sync", "KioskCore"],
            path: "Tests/ScreenBench"
        ),
        .testTarget(name: "KioskCoreTests", dependencies: ["KioskCore"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "KioskCore"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "Imaging", "KioskCore"]),
        .testTarget(name: "CameraTests", dependencies: ["Camera", "Imaging", "KioskCore"]),
        .testTarget(
            name: "SyncTests",
            dependencies: ["Sync", "SyncWire", "SQLite", "KioskCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "KioskAppTests", dependencies: ["KioskApp"]),
        .testTarget(
            name: "CentralTests",
            dependencies: ["Central", "KioskCore", "Imaging", "SQLite", "SyncWire", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "ScreensTests", dependencies: ["Screens", "KioskCore", "Imaging"]),
        .testTarget(
            name: "TouchscreenTests",
            dependencies: ["Touchscreen", "Screens", "KioskCore", "Imaging", "Inference", "Camera", "Sync"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

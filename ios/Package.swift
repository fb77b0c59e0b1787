// swift-tools-version:5.9
// HomeVisit for iOS as a Swift package: the Rust core as a binary XCFramework, its generated
// Swift bindings, an idiomatic layer and the screens' view models. Build the XCFramework and
// the bindings first with `bash ios/build-xcframework.sh` on a Mac (see README.md).
import PackageDescription

let package = Package(
    name: "HomeVisitCore",
    platforms: [.iOS(.v16)],
    products: [
        // The generated uniffi bindings (module HomeVisitCore over the C module HomeVisitFFI).
        .library(name: "HomeVisitCore", targets: ["HomeVisitCore"]),
        // async/await facade, AsyncStream observers, Keychain key, NWPathMonitor sync trigger.
        .library(name: "HomeVisitKit", targets: ["HomeVisitKit"]),
        // Screen logic for SwiftUI, mirroring the Android presenters.
        .library(name: "HomeVisitViewModels", targets: ["HomeVisitViewModels"]),
    ],
    targets: [
        // Static libraries for iphoneos (arm64) and iphonesimulator (arm64 + x86_64) with the C
        // header and module map; built by build-xcframework.sh, not committed.
        .binaryTarget(name: "HomeVisitFFI", path: "HomeVisitFFI.xcframework"),
        .target(
            name: "HomeVisitCore",
            dependencies: ["HomeVisitFFI"],
            path: "Sources/HomeVisitCore",
            exclude: ["README.md"],
            // A Rust staticlib does not carry its link requirements: SQLCipher on CommonCrypto
            // needs Security and CoreFoundation (libsqlite3-sys's build script names them);
            // everything else is in libSystem, which Xcode links anyway.
            linkerSettings: [
                .linkedFramework("Security"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
        .target(
            name: "HomeVisitKit",
            dependencies: ["HomeVisitCore"],
            path: "Sources/HomeVisitKit",
            linkerSettings: [.linkedFramework("Network")]
        ),
        .target(
            name: "HomeVisitViewModels",
            dependencies: ["HomeVisitKit", "HomeVisitCore"],
            path: "Sources/HomeVisitViewModels"
        ),
        .testTarget(
            name: "HomeVisitViewModelsTests",
            dependencies: ["HomeVisitViewModels", "HomeVisitKit", "HomeVisitCore"],
            path: "Tests/HomeVisitViewModelsTests"
        ),
    ]
)

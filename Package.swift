// swift-tools-version:6.0
import PackageDescription

// AVX2 + FMA code generation on x86-64 (Zen 3, Haswell and later). The Swift compiler takes
// its target features from the C importer, so -march reaches Swift code as well.
#if arch(x86_64)
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
#else
let simdFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "rivers",
    products: [
        .library(name: "Rivers", targets: ["Rivers"]),
        .executable(name: "rivers", targets: ["rivers"]),
        .executable(name: "rivers-bench", targets: ["rivers-bench"]),
    ],
    targets: [
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG",
                       providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .target(name: "Rivers", dependencies: ["CJPEG", "CPNG"], swiftSettings: simdFlags),
        .executableTarget(name: "rivers", dependencies: ["Rivers"], swiftSettings: simdFlags),
        .executableTarget(name: "rivers-bench", dependencies: ["Rivers"], swiftSettings: simdFlags),
        .testTarget(name: "RiversTests", dependencies: ["Rivers"], swiftSettings: simdFlags),
    ],
    swiftLanguageModes: [.v5]
)

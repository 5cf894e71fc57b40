// swift-tools-version:6.1
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
    // MPI scale-out is opt-in, so that a plain `swift build` needs no MPI:
    // `swift build -c release --traits MPI` (Debian: libopenmpi-dev, openmpi-bin).
    traits: [
        .trait(name: "MPI", description: "data-parallel training and sharded generation under mpirun, over OpenMPI"),
    ],
    targets: [
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG",
                       providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"]), .brew(["open-mpi"])]),
        // The engine, the model, the pipeline's plans and runs, and the settings: no command line.
        .target(name: "Rivers", dependencies: ["CJPEG", "CPNG"], swiftSettings: simdFlags),
        // The command line: the parser, options made from the settings' rows, every command.
        .target(name: "RiversCLI", dependencies: ["Rivers"], swiftSettings: simdFlags),
        .executableTarget(name: "rivers", dependencies: ["RiversCLI", "Rivers", .target(name: "CMPI", condition: .when(traits: ["MPI"]))],
                          swiftSettings: simdFlags),
        .executableTarget(name: "rivers-bench", dependencies: ["RiversCLI", "Rivers"], exclude: ["pytorch_twin.py"], swiftSettings: simdFlags),
        // Tests by layer: the library's (kernels, model, imaging, pipeline) need no command line;
        // the command line's run the parser in process and the executable as a user would.
        .target(name: "RiversTestSupport", dependencies: ["Rivers"], path: "Tests/Support", swiftSettings: simdFlags),
        .testTarget(name: "RiversTests", dependencies: ["Rivers", "RiversTestSupport"], swiftSettings: simdFlags),
        .testTarget(name: "RiversCLITests", dependencies: ["RiversCLI", "Rivers", "RiversTestSupport"], swiftSettings: simdFlags),
    ],
    swiftLanguageModes: [.v5]
)

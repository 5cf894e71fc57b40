// swift-tools-version:6.1
import PackageDescription

// AVX2 + FMA code generation on x86-64 (Zen 3, Haswell and later). The Swift compiler takes
// its target features from the C importer, so -march reaches Swift code as well.
#if arch(x86_64)
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
// AVX-512 (x86-64-v4) for the code that runs only once the CPU's flags allow it.
let avx512Flags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v4"])]
#else
let simdFlags: [SwiftSetting] = []
let avx512Flags: [SwiftSetting] = []
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
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"]), .brew(["open-mpi"])]),
        // The CPU's flags and the kernel path (RIVERS_ISA), built for the baseline x86-64 so that a
        // CPU below x86-64-v3 gets a one-line refusal instead of an illegal instruction.
        .target(name: "RiversCPU"),
        // Code built for AVX-512, called only when the CPU has it.
        .target(name: "RiversAVX512", swiftSettings: avx512Flags),
        // The engine, the model, the pipeline's plans and runs, and the settings: no command line.
        .target(name: "Rivers", dependencies: ["CJPEG", "CPNG", "RiversCPU", "RiversAVX512"], swiftSettings: simdFlags),
        // The command line: the parser, options made from the settings' rows, every command.
        .target(name: "RiversCLI", dependencies: ["Rivers", "RiversCPU"], swiftSettings: simdFlags),
        // Its main.swift is built for the baseline: the CPU check runs before any AVX2 code.
        .executableTarget(name: "rivers", dependencies: ["RiversCPU", "RiversCLI", "Rivers", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
        .executableTarget(name: "rivers-bench", dependencies: ["RiversCLI", "Rivers", "RiversCPU", "RiversAVX512"], exclude: ["pytorch_twin.py"], swiftSettings: simdFlags),
        // Tests by layer: the library's (kernels, model, imaging, pipeline) need no command line;
        // the command line's run the parser in process and the executable as a user would.
        .target(name: "RiversTestSupport", dependencies: ["Rivers", "RiversCPU"], path: "Tests/Support", swiftSettings: simdFlags),
        .testTarget(name: "RiversTests", dependencies: ["Rivers", "RiversCPU", "RiversTestSupport"], swiftSettings: simdFlags),
        .testTarget(name: "RiversCLITests", dependencies: ["RiversCLI", "Rivers", "RiversTestSupport"], swiftSettings: simdFlags),
    ],
    swiftLanguageModes: [.v5]
)

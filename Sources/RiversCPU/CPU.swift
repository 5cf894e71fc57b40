// What the processor can run, found at startup, and which kernel path (ISA) rivers uses: the
// best the CPU supports, or the one RIVERS_ISA forces. Built for the baseline x86-64 (no AVX),
// so that it can run, and refuse with one line, on a CPU below what the rest was built for.
import Foundation

/// A family of kernels built for one instruction set.
public enum ISA: String, CaseIterable, Sendable {
    /// x86-64-v4: AVX-512 (F, BW, CD, DQ, VL), 512-bit vectors, 32 vector registers.
    case avx512
    /// x86-64-v3: AVX2, FMA, F16C, BMI1/2, LZCNT, MOVBE: what the package is built for on x86-64.
    case avx2
    /// Another architecture (arm64: NEON); the kernels as the compiler builds them for it.
    case native

    /// The flags of /proc/cpuinfo each level needs (LZCNT appears as `abm`).
    static let x8664v3: Set<String> = ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"]
    static let x8664v4: Set<String> = x8664v3.union(["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"])
}

/// The processor's feature flags and what they allow.
public struct CPUFeatures: Equatable, Sendable {
    public let flags: Set<String>
    /// Whether the flags are known (Linux on x86-64); elsewhere every check passes.
    public let known: Bool

    public init(flags: Set<String>, known: Bool = true) {
        self.flags = flags
        self.known = known
    }

    /// The flags of the first processor in a /proc/cpuinfo text (x86: `flags`; arm64: `Features`).
    public init(cpuinfo text: String) {
        let line = text.split(separator: "\n").first {
            $0.hasPrefix("flags") || $0.hasPrefix("Features")
        }
        let value = line.flatMap { $0.split(separator: ":", maxSplits: 1).dropFirst().first } ?? ""
        self.init(flags: Set(value.split(separator: " ").map(String.init)), known: line != nil)
    }

    /// This machine's: /proc/cpuinfo on Linux; unknown elsewhere.
    public static let current: CPUFeatures = {
        #if os(Linux)
            if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
                return CPUFeatures(cpuinfo: text)
            }
        #endif
        return CPUFeatures(flags: [], known: false)
    }()

    /// The kernel paths this CPU can run, best first.
    public var supported: [ISA] {
        #if arch(x86_64)
            guard known else { return [.avx2] }
            return (flags.isSuperset(of: ISA.x8664v4) ? [.avx512] : [])
                + (flags.isSuperset(of: ISA.x8664v3) ? [.avx2] : [])
        #else
            return [.native]
        #endif
    }

    /// What the CPU lacks of x86-64-v3 (which the package is built for), or nil when it has all.
    public var missingBaseline: [String]? {
        #if arch(x86_64)
            guard known else { return nil }
            let missing = ISA.x8664v3.subtracting(flags).sorted()
            return missing.isEmpty ? nil : missing
        #else
            return nil
        #endif
    }
}

/// The kernel path in use.
public enum KernelPath {
    /// The paths this build has kernels for, best first.
    public static let built: [ISA] = {
        #if arch(x86_64)
            return [.avx512, .avx2]
        #else
            return [.native]
        #endif
    }()

    /// The path in use: set at startup (`rivers` and `rivers-bench` call `select`, which reads
    /// RIVERS_ISA), and until then the best path this CPU runs, so that a library user never
    /// reaches AVX-512 code on a CPU without it.
    nonisolated(unsafe) public static var current: ISA = {
        (try? select(cpu: .current, environment: nil).get()) ?? built.last!
    }()

    /// The path `RIVERS_ISA` (when set) forces, else the best one both built and supported by
    /// `cpu`. An unknown name, a path the CPU cannot run or one this build lacks is an error.
    public static func select(cpu: CPUFeatures, environment: String?, built: [ISA] = built) -> Result<ISA, ISAError> {
        let usable = built.filter(cpu.supported.contains)
        guard let name = environment?.trimmingCharacters(in: .whitespaces).lowercased(), !name.isEmpty else {
            return usable.first.map { .success($0) } ?? .failure(.unsupportedCPU(cpu.missingBaseline ?? []))
        }
        guard let forced = ISA(rawValue: name) else {
            return .failure(.unknown(name, choices: ISA.allCases.map(\.rawValue)))
        }
        guard cpu.supported.contains(forced) else { return .failure(.notSupported(forced, supported: cpu.supported)) }
        guard built.contains(forced) else { return .failure(.notBuilt(forced, built: built)) }
        return .success(forced)
    }

    /// One line for --version and the benchmarks: the path in use and what the CPU could run.
    public static func summary(cpu: CPUFeatures = .current, built: [ISA] = built) -> String {
        let others = cpu.supported.filter { $0 != current }
        let runnable = others.filter(built.contains).map(\.rawValue)
        let missing = others.filter { !built.contains($0) }.map(\.rawValue)
        var notes: [String] = []
        if !runnable.isEmpty { notes.append("RIVERS_ISA=\(runnable.joined(separator: "|")) for the other path") }
        if !missing.isEmpty { notes.append("this CPU also runs \(missing.joined(separator: ", ")); not built") }
        return "kernels: \(current.rawValue)" + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
    }
}

/// Why a kernel path cannot be used.
public enum ISAError: Error, Equatable, CustomStringConvertible {
    case unknown(String, choices: [String])
    case notSupported(ISA, supported: [ISA])
    case notBuilt(ISA, built: [ISA])
    case unsupportedCPU([String])

    public var description: String {
        switch self {
        case .unknown(let name, let choices):
            return "RIVERS_ISA=\(name) is not a kernel path; use one of \(choices.joined(separator: ", "))"
        case .notSupported(let isa, let supported):
            return
                "RIVERS_ISA=\(isa.rawValue): this CPU cannot run it (it runs \(supported.map(\.rawValue).joined(separator: ", ")))"
        case .notBuilt(let isa, let built):
            return
                "RIVERS_ISA=\(isa.rawValue): this build has no \(isa.rawValue) kernels (it has \(built.map(\.rawValue).joined(separator: ", ")))"
        case .unsupportedCPU(let missing):
            return
                "this CPU lacks \(missing.joined(separator: ", ")) of x86-64-v3 (AVX2 and FMA, Intel Haswell or AMD Zen and later), which rivers is built for"
        }
    }
}

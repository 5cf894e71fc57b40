// The CPU's flags as /proc/cpuinfo gives them, and the choice of kernel path (RIVERS_ISA).
import Foundation
import XCTest
import RiversCPU
import RiversTestSupport

final class KernelPathTests: XCTestCase {
    static let v3 = "fpu sse sse2 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave"
    static let v4 = v3 + " avx512f avx512bw avx512cd avx512dq avx512vl avx512_bf16"

    func cpu(_ flags: String) -> CPUFeatures {
        CPUFeatures(cpuinfo: "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: \(flags)\nbugs\t\t: none\n")
    }

    func testFlagsOfTheFirstProcessor() {
        let c = cpu(Self.v4)
        XCTAssertTrue(c.known)
        XCTAssertTrue(c.flags.contains("avx512bw") && c.flags.contains("abm"))
        XCTAssertFalse(c.flags.contains("none"), "only the flags line is read")
        #if arch(x86_64)
            XCTAssertEqual(c.supported, [.avx512, .avx2])
            XCTAssertEqual(cpu(Self.v3).supported, [.avx2])
            XCTAssertNil(cpu(Self.v3).missingBaseline)
            // Sandy Bridge: AVX but no AVX2 or FMA.
            XCTAssertEqual(
                cpu("fpu sse sse2 avx xsave").missingBaseline, ["abm", "avx2", "bmi1", "bmi2", "f16c", "fma", "movbe"])
            // Without /proc/cpuinfo nothing can be checked: the build's own path.
            XCTAssertEqual(CPUFeatures(cpuinfo: "").supported, [.avx2])
            XCTAssertNil(CPUFeatures(cpuinfo: "").missingBaseline)
        #endif
    }

    #if arch(x86_64)
        func testTheBestBuiltPathUnlessForced() {
            let both: [ISA] = [.avx512, .avx2]
            XCTAssertEqual(try KernelPath.select(cpu: cpu(Self.v4), environment: nil, built: both).get(), .avx512)
            XCTAssertEqual(try KernelPath.select(cpu: cpu(Self.v3), environment: nil, built: both).get(), .avx2)
            XCTAssertEqual(try KernelPath.select(cpu: cpu(Self.v4), environment: "AVX2 ", built: both).get(), .avx2)
            XCTAssertEqual(try KernelPath.select(cpu: cpu(Self.v4), environment: "", built: both).get(), .avx512)
            // What this build has: both, so an AVX-512 CPU gets the AVX-512 kernels.
            XCTAssertEqual(KernelPath.built, [.avx512, .avx2])
            XCTAssertEqual(try KernelPath.select(cpu: cpu(Self.v4), environment: nil).get(), .avx512)
            // A build without them (the same check, another build) says so when one is forced.
            XCTAssertEqual(try KernelPath.select(cpu: cpu(Self.v4), environment: nil, built: [.avx2]).get(), .avx2)
        }

        func testTheSummaryNamesThePathAndTheOthers() {
            let saved = KernelPath.current
            defer { KernelPath.current = saved }
            KernelPath.current = .avx512
            XCTAssertEqual(
                KernelPath.summary(cpu: cpu(Self.v4)), "kernels: avx512 (RIVERS_ISA=avx2 for the other path)")
            KernelPath.current = .avx2
            XCTAssertEqual(KernelPath.summary(cpu: cpu(Self.v3)), "kernels: avx2")
            XCTAssertEqual(
                KernelPath.summary(cpu: cpu(Self.v4), built: [.avx2]),
                "kernels: avx2 (this CPU also runs avx512; not built)")
        }

        /// The numerics tests run once per path this machine can run: on an AVX-512 CPU, both.
        func testThePathsTheNumericsTestsRun() {
            XCTAssertEqual(KernelPathTestCase.paths, CPUFeatures.current.supported)
            XCTAssertEqual(KernelPath.current, KernelPathTestCase.paths.first, "the best path is the default")
        }

        func testRefusals() {
            func failure(_ r: Result<ISA, ISAError>) -> String {
                if case .failure(let e) = r { return e.description }
                return "no failure"
            }
            XCTAssertEqual(
                failure(KernelPath.select(cpu: cpu(Self.v3), environment: "avx512", built: [.avx512, .avx2])),
                "RIVERS_ISA=avx512: this CPU cannot run it (it runs avx2)")
            XCTAssertTrue(
                failure(KernelPath.select(cpu: cpu(Self.v4), environment: "avx512", built: [.avx2]))
                    .contains("no avx512 kernels"))
            XCTAssertTrue(
                failure(KernelPath.select(cpu: cpu(Self.v4), environment: "sse")).contains("use one of avx512, avx2"))
            XCTAssertTrue(
                failure(KernelPath.select(cpu: cpu("fpu sse2 avx"), environment: nil)).contains("lacks abm, avx2"))
        }
    #endif
}

// SIGTERM (timeout, docker stop, Slurm at a time limit) stops a command as Ctrl-C does: a
// checkpoint, the command that resumes, status 143; and the printed command finishes the run.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class SignalTests: XCTestCase {
    func testSIGTERMCheckpointsAndTheResumeFinishes() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L1", count: 8)
        let process = Process()
        process.executableURL = riversExecutable
        process.arguments = [
            "train", "--in_dir", root + "/L1", "--out_dir", root + "/models", "--image_size", "8", "16", "--widths",
            "8", "16",
            "--block_depth", "1", "--embedding_dims", "8", "--batch_size", "2", "--num_epochs", "100000",
            "--images_to_generate", "2", "--generate_diffusion_steps", "2", "--quiet",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for the first epoch's log row, then ask the process to stop.
        let deadline = Date().addingTimeInterval(60)
        func log() -> String? {
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: root + "/models")) ?? []
            return runs.first.flatMap { FileManager.default.contents(atPath: root + "/models/\($0)/log.csv") }
                .map { String(decoding: $0, as: UTF8.self) }
        }
        while (log()?.split(separator: "\n").count ?? 0) < 2 && Date() < deadline { usleep(50_000) }
        process.terminate()  // SIGTERM
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "ended by the signal, not by the program")
        XCTAssertEqual(process.terminationStatus, 143, text)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("resume with: ") }) else {
            return XCTFail("no resume command in: \(text)")
        }
        let run = String(line.split(separator: " ").last!)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/.lock"), "a stopped run leaves no .lock")
        // The printed command, with a total the run can reach, finishes the run and its images.
        let resumed = try runRivers(["train", "--load_and_train", "--model_dir", run, "--num_epochs", "3", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertEqual(listing(run + "/generated_images").count, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/.lock"), "a finished run leaves no .lock")
    }
}

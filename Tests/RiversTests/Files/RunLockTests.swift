// The run directory's lock: one process trains a run at a time, and a run that ends (finished,
// stopped, or refused) leaves no `.lock` behind; one left by a kill -9 does not stand in the way.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class RunLockTests: XCTestCase {
    /// Lockers exclude each other; unlocking removes the file; a locker that opened the file just
    /// before its holder removed it finds that its lock is on an orphan.
    func testLockersExcludeEachOtherAndTheFileGoesWithTheLock() throws {
        let dir = RunDirectory(try makeTempDir(self))
        let a = try dir.lock()
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.lockPath))
        assertFileError(try dir.lock(), path: dir.path, reason: "another rivers process")
        dir.unlock(a)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.lockPath), "unlock removes .lock")

        // Another process opened .lock just before the holder removed it: while held, its flock
        // finds the lock busy; once the holder is gone, it locks the removed file, which the check
        // tells apart from the run's lock (`lock` then opens the path's file again).
        let b = try dir.lock()
        let late = open(dir.lockPath, O_RDWR | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(late, 0)
        XCTAssertEqual(RunDirectory.attempt(late, dir.lockPath), .busy)
        dir.unlock(b)
        XCTAssertEqual(RunDirectory.attempt(late, dir.lockPath), .removed, "a lock on the removed file is no lock")
        let c = try dir.lock()
        XCTAssertTrue(RunDirectory.isCurrent(c, dir.lockPath))
        assertFileError(try dir.lock(), path: dir.path, reason: "another rivers process")
        let other = open(dir.lockPath, O_RDWR | O_CLOEXEC)
        XCTAssertEqual(RunDirectory.attempt(other, dir.lockPath), .busy)
        close(other)
        close(late)
        dir.unlock(c)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.lockPath))

        // A .lock left by a killed process (nobody holds it) is locked again, and removed after.
        writeFile(dir.lockPath, Data())
        let d = try dir.lock()
        dir.unlock(d)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.lockPath))
    }

    /// Threads locking and unlocking one run as fast as they can (each with its own open file,
    /// as processes have): never two holders at once, although the file comes and goes.
    func testConcurrentLockersNeverHoldTogether() throws {
        let dir = RunDirectory(try makeTempDir(self))
        final class Count: @unchecked Sendable {
            let lock = NSLock()
            var holders = 0, most = 0, taken = 0
            func enter() { lock.lock(); holders += 1; most = max(most, holders); taken += 1; lock.unlock() }
            func leave() { lock.lock(); holders -= 1; lock.unlock() }
        }
        let count = Count()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<300 {
                guard let fd = try? dir.lock() else { continue }
                count.enter()
                usleep(20)
                count.leave()
                dir.unlock(fd)
            }
        }
        XCTAssertEqual(count.most, 1, "two lockers held the run at once")
        XCTAssertGreaterThan(count.taken, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.lockPath))
    }
}

import Foundation
import Testing

@testable import FundRecon

/// Temporary files carry the pid of their process, so that whoever cleans up knows whose they are.
@Suite("Temporary files never outlive their process")
struct TemporaryFilesTests {
    @Test func aDeadProcessesFilesAreSweptAndALiveOnesKept() throws {
        // A pid that is not running: a child that already exited and was reaped.
        let child = try ProcessRunner.spawn(["/bin/true"], outputPath: "/dev/null", newSession: false)
        var status: Int32 = 0
        waitpid(child, &status, 0)
        let dead = NSTemporaryDirectory() + "recon-audit-data-\(child)-rc_r20260101000000_abcdef"
        let live = NSTemporaryDirectory() + "recon-capture-\(getppid())-123"
        let foreign = NSTemporaryDirectory() + "recon-e2e-\(child)-not-ours.out"
        for path in [dead, live, foreign] { FileManager.default.createFile(atPath: path, contents: Data("x".utf8)) }
        defer { for path in [dead, live, foreign] { try? FileManager.default.removeItem(atPath: path) } }
        let removed = TemporaryFiles.sweep()
        #expect(removed.contains((dead as NSString).lastPathComponent))
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live), "a live process's file was swept")
        #expect(FileManager.default.fileExists(atPath: foreign), "a name of another kind was swept")
    }

    @Test func registeredPathsGoWithRemoveAll() throws {
        let path = TemporaryFiles.path(.snapshot)
        #expect(path.contains("recon-snapshot-\(getpid())-"))
        FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        TemporaryFiles.removeAll()
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

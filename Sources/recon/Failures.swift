import ArgumentParser
import FundRecon
import Foundation
import Postgres

/// Runs a command's body and maps every failure to its exit code in one place (DESIGN.md "Exit
/// code"): a `ReconError`'s class decides 2 (bad input) or 3 (runtime), printed as one line with
/// its fix. Argument errors are ArgumentParser's and become 2 in `Recon.main`.
func handlingFailures<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as any ReconError {
        // A failure caused by an interrupt's cleanup is not reported: the interrupt ends the process.
        interrupts.holdIfInterrupted()
        printError(error is PostgresError ? "database error: \(error)" : "\(error)", fix: error.fix)
        throw ExitCode(error.failureClass.exitCode)
    }
}

/// `recon: error: message`, and `  fix: ...` under it, on standard error.
func printError(_ message: String, fix: String?) {
    var text = "recon: error: \(message)\n"
    if let fix { text += "  fix: \(fix)\n" }
    FileHandle.standardError.write(Data(text.utf8))
}

/// Turns a library value error into ArgumentParser's, naming the flag it came from (exit code 2).
func flag<T>(_ name: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as any ReconError {
        throw ValidationError("\(name): \(error)")
    }
}

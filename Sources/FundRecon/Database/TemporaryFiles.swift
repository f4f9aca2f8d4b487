import Foundation

/// The process's temporary files and folders, named `recon-<kind>-<pid>-<unique>` in the
/// temporary directory, so that whatever removes them knows whose they are:
///
/// - the process removes each one when done with it (`remove`), and every one still registered
///   when SIGINT or SIGTERM ends it (`Interrupts` calls `removeAll`);
/// - the embedded cluster's watchdog removes the pid's leftovers when the process died of SIGKILL;
/// - every `recon` command sweeps the leftovers of processes that are gone (`sweep`).
public enum TemporaryFiles {
    // Guarded by `lock`: written from task threads, read by the interrupt handler.
    private static let lock = NSLock()
    nonisolated(unsafe) private static var registered: Set<String> = []
    /// Held while anything is deleted. A run removing its generated dataset when SIGINT's handler
    /// ends the process would be cut off half-way by its `exit` (a CI run found part of a
    /// `recon-audit-data-*` folder after SIGINT): the handler waits for the removal, then removes
    /// what is still registered, and only then exits.
    private static let removal = NSLock()

    /// The temporary directory, without a trailing slash.
    static var directory: String {
        var base = NSTemporaryDirectory()
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// The pattern of this process's names (`recon-*-<pid>-*`), for a shell that cleans up after it.
    static var pattern: String { "'\(directory)'/recon-*-\(getpid())-*" }

    /// The kinds of temporary path there are: only names of these kinds are ever swept.
    public enum Kind: String, CaseIterable, Sendable {
        case capture, auditData = "audit-data", coverage, diff, golden, snapshot
    }

    private static let kinds = Kind.allCases.map(\.rawValue)

    /// A new path `recon-<kind>-<pid>-<unique>` (nothing is created), registered for removal.
    public static func path(_ kind: Kind, unique: String = String(UInt64.random(in: 0...UInt64.max), radix: 36)) -> String {
        let path = "\(directory)/recon-\(kind.rawValue)-\(getpid())-\(unique)"
        lock.withLock { _ = registered.insert(path) }
        return path
    }

    /// Removes a path and forgets it.
    public static func remove(_ path: String) {
        removal.withLock {
            try? FileManager.default.removeItem(atPath: path)
            lock.withLock { _ = registered.remove(path) }
        }
    }

    /// Forgets a path without removing it (it is kept on purpose).
    public static func keep(_ path: String) {
        lock.withLock { _ = registered.remove(path) }
    }

    /// Removes every registered path: the last thing an interrupted process does.
    public static func removeAll() {
        removal.withLock {
            let paths = lock.withLock { registered }
            for path in paths { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    /// Removes `recon-<kind>-<pid>-*` entries of processes that no longer exist; returns them.
    @discardableResult
    public static func sweep() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed: [String] = []
        for name in names {
            guard let kind = kinds.first(where: { name.hasPrefix("recon-\($0)-") }) else { continue }
            let rest = name.dropFirst("recon-\(kind)-".count)
            guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0, pid != getpid() else { continue }
            guard kill(pid, 0) == -1, errno == ESRCH else { continue }
            if (try? FileManager.default.removeItem(atPath: directory + "/" + name)) != nil { removed.append(name) }
        }
        return removed
    }
}

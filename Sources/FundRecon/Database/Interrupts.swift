import Foundation

/// Runs cleanup actions when the process gets SIGINT or SIGTERM, then exits with 128 + signal.
///
/// The command-line tool makes one for the process and installs it; stages register what must not
/// be left behind (ephemeral schemas, the embedded cluster) and remove the registration when they
/// clean up themselves. Work that fails because the cleanup ended its sessions must not report that
/// failure: the tool calls `holdIfInterrupted()` before it reports anything or exits, so an
/// interrupted run always ends with 130 or 143 and the cleanup's own words.
public final class Interrupts: @unchecked Sendable {
    // Mutable state is guarded by `lock`; signal sources deliver on a dispatch queue, not in a handler.
    private let lock = NSLock()
    private var actions: [(id: Int, action: @Sendable () -> Void)] = []
    private var nextID = 0
    private var sources: [any DispatchSourceSignal] = []
    private var firing = false

    /// A handler with nothing registered and no signals caught yet.
    public init() {}

    /// Starts catching SIGINT and SIGTERM.
    public func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in self?.fire(signalNumber) }
            source.resume()
            lock.withLock { sources.append(source) }
        }
    }

    /// Registers an action; actions run newest first. Returns a handle for `remove`.
    @discardableResult
    public func register(_ action: @escaping @Sendable () -> Void) -> Int {
        lock.withLock {
            nextID += 1
            actions.append((nextID, action))
            return nextID
        }
    }

    /// Removes a registered action (its owner cleaned up on its own).
    public func remove(_ id: Int) {
        lock.withLock { actions.removeAll { $0.id == id } }
    }

    /// True once SIGINT or SIGTERM was received.
    public var wasReceived: Bool { lock.withLock { firing } }

    /// Waits for ever when an interrupt is being handled: its handler ends the process (with
    /// 128 + signal) once the cleanup is done. Returns at once otherwise.
    public func holdIfInterrupted() {
        while wasReceived { Thread.sleep(forTimeInterval: 1) }
    }

    private func fire(_ signalNumber: Int32) {
        let pending: [@Sendable () -> Void] = lock.withLock {
            guard !firing else { return [] }
            firing = true
            return actions.reversed().map(\.action)
        }
        let name = signalNumber == SIGINT ? "SIGINT" : "SIGTERM"
        FileHandle.standardError.write(Data("recon: \(name) received, cleaning up\n".utf8))
        for action in pending { action() }
        TemporaryFiles.removeAll()
        exit(128 + signalNumber)
    }
}

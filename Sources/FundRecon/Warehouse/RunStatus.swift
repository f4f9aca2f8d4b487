/// How a run recorded in `recon_meta.runs` stands.
public enum RunStatus: String, Sendable, Codable {
    /// Started, not finished (or its process died: the next run of its prefix marks it `crashed`).
    case running
    /// Every error check passed.
    case succeeded
    /// A check failed.
    case failed
    /// A task failed for good (exit code 3).
    case error
    /// Stopped by SIGINT or SIGTERM.
    case interrupted
    /// Its process died without finishing.
    case crashed
}

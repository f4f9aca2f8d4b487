/// What a build task did: the models it built and, in a persistent warehouse, the partitions it
/// published, or that nothing it reads had changed since an earlier build.
public struct BuildOutcome: Sendable {
    /// Every seed and model built, in order (empty when the build was up to date).
    public var report: BuildReport
    /// Persistent warehouse: the partitions written (changed, new or removed).
    public var published: [PartitionChange] = []
    /// Persistent warehouse: the fingerprint of what the build read (the run's other build task reuses it).
    public var inputsFingerprint: String?
    /// Persistent warehouse: the run that last built from the same inputs, when this build was skipped.
    public var upToDateSince: String?

    public init(report: BuildReport, published: [PartitionChange] = [], inputsFingerprint: String? = nil,
                upToDateSince: String? = nil) {
        self.report = report
        self.published = published
        self.inputsFingerprint = inputsFingerprint
        self.upToDateSince = upToDateSince
    }

    /// Rows written by the models.
    public var rows: Int { report.models.reduce(0) { $0 + $1.rows } }
}

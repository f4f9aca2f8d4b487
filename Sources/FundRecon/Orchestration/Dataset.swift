/// The source files a run loads: a dataset directory in the contract's layout, given by the user
/// or written by the generator at the start of the run.
public struct Dataset: Sendable {
    /// The directory (DATA_CONTRACT.md section 1).
    public var directory: String
    /// What the generator wrote, when the run generated it.
    public var generated: GenerationReport?

    public init(directory: String, generated: GenerationReport? = nil) {
        self.directory = directory
        self.generated = generated
    }
}

/// Where a run's sources come from.
public enum DataSource: Sendable {
    /// A dataset directory.
    case directory(String)
    /// A dataset generated for the run (into a temporary directory, removed with the run).
    case generate(GeneratorSpec)
    /// The sources another run loaded on the same database, read through views of its tables:
    /// `recon diff` builds its second pipeline on the first one's load.
    case shared(RunSchemas)
    /// None: the run only reads tables that exist (checks, reports).
    case none
}

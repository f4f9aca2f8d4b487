/// Facts about a run that the report header shows.
public struct ReportContext: Sendable {
    public var title = "FundRecon audit report"
    public var dataset = ""
    public var expectationsSHA256 = ""
    public var pipelineCommit: String?
    public var month: String?
    /// Each check's outcomes over the last runs of a persistent warehouse, oldest first.
    public var trend: [String: [TrendPoint]] = [:]
    /// Partitions of closed periods this run changed.
    public var restatements: [PartitionChange] = []
    /// The month's sign-offs (a persistent warehouse's monthly pack).
    public var signOffs: [SignOffs.Record] = []
    /// The breaks open at the month's end and those resolved in it (a persistent warehouse's pack).
    public var breakRegister: (open: [BreakRegister.Entry], resolved: [BreakRegister.Entry])?

    public init(dataset: String = "", expectationsSHA256: String = "", pipelineCommit: String? = nil) {
        self.dataset = dataset
        self.expectationsSHA256 = expectationsSHA256
        self.pipelineCommit = pipelineCommit
    }
}

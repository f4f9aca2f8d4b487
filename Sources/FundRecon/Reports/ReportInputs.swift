/// What `write_reports` gathers for the reports besides the run's result: the warehouse's figures
/// (statements, gateway days, breaks) and what the run was.
public struct ReportInputs: Sendable {
    /// The figures, when the run has a warehouse the reports can read.
    public var figures: ReportData?
    /// The report header's facts.
    public var context: ReportContext

    public init(figures: ReportData?, context: ReportContext) {
        self.figures = figures
        self.context = context
    }
}

/// One stage of a run, with its rows and time.
public struct StageTiming: Sendable, Codable {
    public var name: String
    public var rows: Int
    public var durationMS: Int

    enum CodingKeys: String, CodingKey {
        case name, rows
        case durationMS = "duration_ms"
    }

    public init(name: String, rows: Int, durationMS: Int) {
        self.name = name
        self.rows = rows
        self.durationMS = durationMS
    }

    /// A task's timing.
    public init(_ task: TaskRecord) {
        self.init(name: task.task.rawValue, rows: task.rows, durationMS: task.durationMS)
    }
}

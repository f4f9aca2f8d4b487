/// One earlier outcome of a check.
public struct TrendPoint: Sendable, Codable, Equatable {
    public var status: String
    public var failingRows: Int
    public var runID: String
    public var period: String
}

/// A bad expectations file: the file, the line, the check and what is wrong (exit code 2).
public struct ExpectationsError: ReconError, Sendable {
    public var file: String
    public var line: Int?
    public var checkID: String?
    public var message: String

    public var failureClass: FailureClass { .badInput }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? "")\(checkID.map { ": check \($0)" } ?? ""): \(message)"
    }
}

/// A parsed expectations file.
public struct ExpectationsFile: Sendable {
    public var path: String
    public var checks: [CheckSpec]
}

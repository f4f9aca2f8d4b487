/// A seed: static data in `seeds/<name>.csv`, loaded as a table of the ods layer.
public struct Seed: Sendable {
    public let name: String
    public let file: String
}

/// A parsed expectations file.
public struct ExpectationsFile: Sendable {
    public var path: String
    public var checks: [CheckSpec]
    /// The file's text (the schemas its SQL names are what a check's reader role is granted).
    public var text: String = ""
    /// Acknowledged exceptions (EXPECTATIONS.md "Waivers"): the file's, and a `--waivers` file's.
    public var waivers: [Waiver] = []
    /// The money above which a break is material (top-level `break_materiality`, amounts only).
    public var breakMateriality: Materiality?
}

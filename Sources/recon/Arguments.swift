import ArgumentParser
import FundRecon

extension ReportFormat: ExpressibleByArgument {}
extension Severity: ExpressibleByArgument {}
extension Grain: ExpressibleByArgument {}
extension TaskID: ExpressibleByArgument {}

/// A comma-separated list of values of an argument type (`--format html,junit`, `--tasks a,b`).
struct CommaSeparated<Element: ExpressibleByArgument & CaseIterable & RawRepresentable>: CustomStringConvertible
where Element.RawValue == String {
    var values: [Element]

    init(_ values: [Element]) {
        self.values = values
    }

    /// Parses `text`; an unknown item is an error naming it and listing the `kind`s there are.
    static func parse(_ text: String, naming kind: String, among known: [Element] = Array(Element.allCases)) throws -> Self {
        var values: [Element] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let value = Element(argument: item), known.contains(where: { $0.rawValue == value.rawValue }) else {
                throw ValidationError("unknown \(kind) '\(item)' (\(known.map(\.rawValue).joined(separator: ", ")))")
            }
            values.append(value)
        }
        guard !values.isEmpty else { throw ValidationError("expected one or more of \(known.map(\.rawValue).joined(separator: ", "))") }
        return Self(values)
    }

    /// The list as it is written on the command line (shown as a default value).
    var description: String { values.map(\.rawValue).joined(separator: ",") }
}

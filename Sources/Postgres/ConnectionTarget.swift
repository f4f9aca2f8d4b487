import Foundation

/// Where to connect: a `postgres://` URL, a libpq keyword string, or the libpq `PG*` environment.
public struct ConnectionTarget: Sendable, Equatable, CustomStringConvertible {
    /// The string handed to libpq (`""` means: use the `PG*` environment).
    public let conninfo: String

    /// A URL such as `postgres://user:pass@host:5432/db?sslmode=disable`.
    public static func url(_ url: String) -> ConnectionTarget { ConnectionTarget(conninfo: url) }
    /// A keyword string such as `host=/tmp port=5432 dbname=postgres`.
    public static func keywords(_ keywords: String) -> ConnectionTarget { ConnectionTarget(conninfo: keywords) }
    /// Whatever the `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD` ... environment says.
    public static let environment = ConnectionTarget(conninfo: "")

    /// The target with any password replaced by `***`: safe to print and log.
    public var description: String { maskPassword(in: conninfo) }
}

/// Replaces the password in a connection URL or keyword string with `***`.
///
/// Handles `scheme://user:password@host`, a `password=` URL parameter and a `password=` keyword
/// (quoted or not). Used wherever a connection string is shown.
public func maskPassword(in conninfo: String) -> String {
    if conninfo.isEmpty { return "(PG* environment)" }
    var text = conninfo
    if let schemeRange = text.range(of: "://") {
        let afterScheme = schemeRange.upperBound
        let authorityEnd = text[afterScheme...].firstIndex(where: { $0 == "/" || $0 == "?" }) ?? text.endIndex
        if let at = text[afterScheme..<authorityEnd].lastIndex(of: "@"),
            let colon = text[afterScheme..<at].firstIndex(of: ":")
        {
            text.replaceSubrange(text.index(after: colon)..<at, with: "***")
        }
        // A password may also travel as a query parameter.
        if let query = text.firstIndex(of: "?") {
            let head = text[..<query]
            let params = text[text.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false)
            let masked = params.map { param -> String in
                param.lowercased().hasPrefix("password=") ? "password=***" : String(param)
            }
            text = head + "?" + masked.joined(separator: "&")
        }
        return text
    }
    // Keyword form: password = value | 'quoted value'
    var result = ""
    var rest = Substring(text)
    while let range = rest.range(of: "password", options: .caseInsensitive) {
        result += rest[..<range.upperBound]
        rest = rest[range.upperBound...]
        let spaces = rest.prefix { $0 == " " }
        rest = rest.dropFirst(spaces.count)
        guard rest.first == "=" else { result += spaces; continue }
        rest = rest.dropFirst()
        rest = rest.drop { $0 == " " }
        result += "=***"
        if rest.first == "'" {
            var index = rest.index(after: rest.startIndex)
            while index < rest.endIndex {
                if rest[index] == "\\" {
                    index = rest.index(index, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex
                    continue
                }
                if rest[index] == "'" { index = rest.index(after: index); break }
                index = rest.index(after: index)
            }
            rest = rest[index...]
        } else {
            rest = rest.drop { $0 != " " }
        }
    }
    return result + rest
}

import CLibPQ
import Foundation

/// Where to connect: a `postgres://` URL, a libpq keyword string, or the libpq `PG*` environment.
///
/// Every question about what the string says (its user, its password, a form to print) is
/// answered by libpq's own parser (`PQconninfoParse`), so no form libpq accepts escapes masking.
public struct ConnectionTarget: Sendable, Equatable, CustomStringConvertible {
    /// The string handed to libpq (`""` means: use the `PG*` environment).
    public let conninfo: String

    /// A URL such as `postgres://user:pass@host:5432/db?sslmode=disable`.
    public static func url(_ url: String) -> ConnectionTarget { ConnectionTarget(conninfo: url) }
    /// A keyword string such as `host=/tmp port=5432 dbname=postgres`.
    public static func keywords(_ keywords: String) -> ConnectionTarget { ConnectionTarget(conninfo: keywords) }
    /// Whatever the `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD` ... environment says.
    public static let environment = ConnectionTarget(conninfo: "")

    /// The target with every secret (`password`, `sslpassword`) replaced by `***`: safe to print and log.
    public var description: String { maskPassword(in: conninfo) }

    /// The options the string sets, in libpq's order; a string libpq cannot read is a
    /// `.connection` error whose message quotes nothing of the string.
    public func options() throws -> [ConnectionOption] {
        switch ConnectionOption.parse(conninfo) {
        case .success(let options): return options
        case .failure(let message):
            throw PostgresError(kind: .connection, message: "libpq cannot read the connection string: \(message)",
                                target: description)
        }
    }

    /// The user the string names, if it names one (otherwise libpq takes `PGUSER` or the OS user).
    public var user: String? { (try? options())?.first { $0.keyword == "user" }?.value }

    /// The same server and database with some options replaced (a nil value removes one), as a
    /// keyword string: how a second role logs in to the run's database.
    public func replacing(_ replacements: KeyValuePairs<String, String?>) throws -> ConnectionTarget {
        var options = try options()
        for (keyword, value) in replacements {
            options.removeAll { $0.keyword == keyword }
            if let value { options.append(ConnectionOption(keyword: keyword, value: value, isSecret: keyword.contains("password"))) }
        }
        return .keywords(options.map { "\($0.keyword)=\(ConnectionOption.quoted($0.value))" }.joined(separator: " "))
    }
}

/// One option a connection string sets, as libpq reads it.
public struct ConnectionOption: Sendable, Equatable {
    /// libpq's keyword (`host`, `user`, `password`, `sslmode`, ...).
    public var keyword: String
    /// The value, unquoted and unescaped.
    public var value: String
    /// True for what libpq marks as a password field (`password`, `sslpassword`): never shown.
    public var isSecret: Bool

    /// The options `conninfo` sets (libpq's `PQconninfoParse`: environment and defaults are not
    /// applied), or libpq's complaint with any quoted part of the string removed.
    static func parse(_ conninfo: String) -> Result<[ConnectionOption], ParseFailure> {
        var error: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(conninfo, &error) else {
            let message = error.map { String(cString: $0) } ?? "out of memory"
            if let error { PQfreemem(error) }
            return .failure(ParseFailure(message: redacted(message)))
        }
        defer { PQconninfoFree(parsed) }
        var options: [ConnectionOption] = []
        var index = 0
        while let keyword = parsed[index].keyword {
            if let value = parsed[index].val {
                let display = parsed[index].dispchar.map { String(cString: $0) } ?? ""
                options.append(ConnectionOption(keyword: String(cString: keyword), value: String(cString: value),
                                                isSecret: display == "*"))
            }
            index += 1
        }
        return .success(options)
    }

    /// Why libpq could not read a string, safe to show.
    struct ParseFailure: Error {
        var message: String
    }

    /// libpq quotes the piece of the string it stumbled on (`missing "=" after "S3cret"`), which
    /// may be a password: every quoted part is cut out.
    static func redacted(_ message: String) -> String {
        message.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\"[^\"]*\"", with: "\"…\"", options: .regularExpression)
    }

    /// A value as a keyword string writes it: bare when it can be, else single-quoted with `\` escapes.
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains { $0.isWhitespace || $0 == "'" || $0 == "\\" || $0 == "=" }
        if plain { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

/// The connection string as libpq reads it, with every secret replaced by `***`.
///
/// The string is parsed by libpq and written again from what it says, in the form it came in: a
/// URL stays a URL (`postgres://alice:***@db:5432/wh?sslmode=require`), a keyword string stays
/// keywords (options in libpq's order). A string libpq cannot parse is shown as nothing but that.
public func maskPassword(in conninfo: String) -> String {
    if conninfo.isEmpty { return "(PG* environment)" }
    guard case .success(let options) = ConnectionOption.parse(conninfo) else {
        return "(a connection string libpq cannot read)"
    }
    let scheme = ["postgresql://", "postgres://"].first { conninfo.hasPrefix($0) }
    guard let scheme else {
        return options.map { "\($0.keyword)=\($0.isSecret ? "***" : ConnectionOption.quoted($0.value))" }.joined(separator: " ")
    }
    return maskedURL(scheme: scheme, options: options)
}

/// A URL written from parsed options: user, `***` for a password, hosts with their ports, the
/// database, and every other option as a query parameter.
private func maskedURL(scheme: String, options: [ConnectionOption]) -> String {
    func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }
    var values: [String: String] = [:]
    for option in options { values[option.keyword] = option.value }
    var url = scheme
    var consumed: Set<String> = ["user", "dbname"]
    if let user = values["user"] {
        url += encoded(user)
        if values["password"] != nil { url += ":***" }
        url += "@"
        consumed.insert("password")
    }
    var query: [String] = []
    let hosts = values["host"].map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
    let ports = values["port"].map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
    if !hosts.contains(where: { $0.hasPrefix("/") }) && (ports.count <= 1 || ports.count == hosts.count) {
        url += hosts.enumerated().map { index, host in
            let name = host.contains(":") ? "[\(host)]" : encoded(host)
            let port = ports.count == hosts.count ? ports[index] : ports.first
            return port.map { name + ":" + $0 } ?? name
        }.joined(separator: ",")
        if hosts.isEmpty, let port = ports.first { query.append("port=" + encoded(port)) }
        consumed.formUnion(["host", "port"])
    }
    if let database = values["dbname"] { url += "/" + encoded(database) }
    for option in options where !consumed.contains(option.keyword) {
        query.append(option.keyword + "=" + (option.isSecret ? "***" : encoded(option.value)))
    }
    return query.isEmpty ? url : url + "?" + query.joined(separator: "&")
}

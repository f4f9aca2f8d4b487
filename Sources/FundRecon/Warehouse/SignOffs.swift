import Foundation
import Postgres

/// A month's close in a persistent warehouse: a preparer's and a reviewer's sign-off, each with
/// a fingerprint of the month as they saw it (every partition's digest, every ADS money total per
/// currency, the expectations and pipeline, the tool, the input files). A later run that changes
/// a signed month withdraws the sign-offs and fails, with the money that moved; `reopen` withdraws
/// them on purpose, with a reason.
public enum SignOffs {
    /// Who signs: the one who prepared the month, then someone else who reviewed it.
    public enum Role: String, Sendable, CaseIterable, Codable {
        case preparer, reviewer
    }

    /// One sign-off as recorded.
    public struct Record: Sendable, Codable, Equatable {
        public var month: String
        public var role: Role
        public var by: String
        public var signedAt: String
        /// SHA-256 of the fingerprint.
        public var fingerprint: String
        /// `active`, or `withdrawn` with its reason.
        public var status: String
        public var withdrawnReason: String?

        enum CodingKeys: String, CodingKey {
            case month, role, by, fingerprint, status
            case signedAt = "signed_at"
            case withdrawnReason = "withdrawn_reason"
        }
    }

    /// What a month was when signed: partitions and money, and what made them.
    public struct Fingerprint: Sendable, Codable, Equatable {
        /// `table partition` -> digest, for every partition of the month in `recon_meta.partitions`.
        public var partitions: [String: String] = [:]
        /// `table.column currency` -> total, for the money columns of the ADS models partitioned by day or month.
        public var money: [String: String] = [:]
        public var expectationsSHA256: String?
        public var pipelineSHA256: String?
        public var toolVersion = Evidence.toolVersion
        /// Input file -> SHA-256, for every file the warehouse loaded.
        public var inputs: [String: String] = [:]

        enum CodingKeys: String, CodingKey {
            case partitions, money, inputs
            case expectationsSHA256 = "expectations_sha256"
            case pipelineSHA256 = "pipeline_sha256"
            case toolVersion = "tool_version"
        }

        /// The fingerprint as stored: JSON with sorted keys.
        public var json: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
        }

        /// The fingerprint's own SHA-256 (of `json`).
        public var digest: String {
            var hash = SHA256()
            hash.update(Array(json.utf8))
            return hash.finalize()
        }
    }

    /// The month's first and last day.
    static func bounds(_ month: String) throws -> (CalendarDate, CalendarDate) {
        guard month.count == 7, let first = CalendarDate(month + "-01") else { throw BadValue("--month '\(month)' is not YYYY-MM") }
        return (first, first.lastOfMonth)
    }

    /// The month as it is now in the warehouse `prefix`.
    public static func fingerprint(prefix: String, month: String, project: PipelineProject, on connection: Connection) throws -> Fingerprint {
        let (first, last) = try bounds(month)
        var fingerprint = Fingerprint()
        for row in try connection.query("""
            SELECT table_name || ' ' || partition_key, digest FROM recon_meta.partitions
            WHERE schema_prefix = \(prefix) AND partition_key ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
              AND partition_key::date BETWEEN \(first.description)::date AND \(last.description)::date
            """).rows {
            fingerprint.partitions[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        let ads = RunSchemas(prefix: prefix).name(.ads)
        let diff = TableDiff(connection: connection)
        for model in project.models where model.layer == .ads && model.config.isTable {
            guard let partition = model.config.partitionBy else { continue }
            let relation = TableDiff.Relation(schema: ads, table: model.name)
            let columns = try diff.columns(of: relation)
            let money = columns.filter { TableDiff.isMoney($0.type) }.map(\.name)
            guard !money.isEmpty, columns.contains(where: { $0.name == partition }) else { continue }
            let currency: SQL = columns.contains { $0.name == "currency" } ? "currency::text" : "'(none)'"
            let sums = money.map { "coalesce(sum(\(identifier: $0)), 0)::text" as SQL }.joined(separator: ", ")
            for row in try connection.query("""
                SELECT \(currency), \(sums) FROM \(relation.sql)
                WHERE \(identifier: partition)::date BETWEEN \(first.description)::date AND \(last.description)::date GROUP BY 1
                """).rows {
                let code = row.text(at: 0) ?? ""
                for (index, column) in money.enumerated() {
                    fingerprint.money["\(model.name).\(column) \(code)"] = row.text(at: 1 + index) ?? "0"
                }
            }
        }
        fingerprint.expectationsSHA256 = try connection.query("""
            SELECT expectations_sha256 FROM recon_meta.runs WHERE schema_prefix = \(prefix) AND expectations_sha256 <> ''
            ORDER BY finished_at DESC NULLS LAST LIMIT 1
            """).first?.decode(String?.self, at: 0)
        fingerprint.pipelineSHA256 = try connection.query("""
            SELECT fingerprint FROM recon_meta.build_inputs WHERE schema_prefix = \(prefix) ORDER BY built_at DESC LIMIT 1
            """).first?.decode(String?.self, at: 0)
        for row in try connection.query("SELECT file, sha256 FROM recon_meta.loaded_files WHERE schema_prefix = \(prefix)").rows {
            fingerprint.inputs[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        return fingerprint
    }

    /// The sign-offs of a month (every one, active first).
    public static func records(prefix: String, month: String? = nil, on connection: Connection) throws -> [Record] {
        try connection.query("""
            SELECT month, role, signed_by, to_char(signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), fingerprint, status,
                   withdrawn_reason
            FROM recon_meta.signoffs WHERE schema_prefix = \(prefix) AND (\(month)::text IS NULL OR month = \(month))
            ORDER BY month, status = 'active' DESC, signed_at
            """).rows.map { row in
            Record(month: try row.decode(String.self, at: 0), role: Role(rawValue: try row.decode(String.self, at: 1)) ?? .preparer,
                   by: try row.decode(String.self, at: 2), signedAt: try row.decode(String.self, at: 3),
                   fingerprint: try row.decode(String.self, at: 4), status: try row.decode(String.self, at: 5),
                   withdrawnReason: try row.decode(String?.self, at: 6))
        }
    }

    /// Signs a month: a preparer first, then a reviewer who is someone else. Bad requests are
    /// `BadValue` (exit 2): a month with no published partition, a second active sign-off of the
    /// same role, a reviewer without a preparer or who is the preparer.
    public static func close(prefix: String, month: String, by: String, role: Role, project: PipelineProject,
                             on connection: Connection) throws -> Record {
        try RunHistory.ensure(on: connection)
        return try connection.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock(\(RunSession.lockSpace), hashtext(\(prefix + "/signoff")))")
            let active = try records(prefix: prefix, month: month, on: connection).filter { $0.status == "active" }
            if let same = active.first(where: { $0.role == role }) {
                throw BadValue("\(month) already has an active \(role.rawValue) sign-off by \(same.by) (\(same.signedAt))")
            }
            if role == .reviewer {
                guard let preparer = active.first(where: { $0.role == .preparer }) else {
                    throw BadValue("\(month) has no active preparer sign-off to review: the preparer signs first")
                }
                guard preparer.by != by else { throw BadValue("the reviewer must be someone other than the preparer (\(by))") }
            }
            let fingerprint = try Self.fingerprint(prefix: prefix, month: month, project: project, on: connection)
            guard !fingerprint.partitions.isEmpty else {
                throw BadValue("the warehouse \(prefix) has no published partition of \(month): run the month first")
            }
            let digest = fingerprint.digest
            if let preparer = active.first(where: { $0.role == .preparer }), preparer.fingerprint != digest {
                throw BadValue("\(month) changed since \(preparer.by) prepared it: reopen it and prepare it again")
            }
            try connection.execute("""
                INSERT INTO recon_meta.signoffs (schema_prefix, month, role, signed_by, fingerprint, fingerprint_json)
                VALUES (\(prefix), \(month), \(role.rawValue), \(by), \(digest), \(fingerprint.json))
                """)
            return try records(prefix: prefix, month: month, on: connection).first { $0.status == "active" && $0.role == role }!
        }
    }

    /// Withdraws a month's active sign-offs on purpose; returns how many.
    public static func reopen(prefix: String, month: String, by: String, reason: String, on connection: Connection) throws -> Int {
        try RunHistory.ensure(on: connection)
        _ = try bounds(month)
        return try connection.query("""
            UPDATE recon_meta.signoffs SET status = 'withdrawn', withdrawn_at = now(),
                   withdrawn_reason = \("reopened by \(by): \(reason)")
            WHERE schema_prefix = \(prefix) AND month = \(month) AND status = 'active' RETURNING 1
            """).count
    }

    /// What moved in a signed month.
    public struct Change: Sendable, Equatable {
        public var month: String
        /// `table partition` whose digest changed (or appeared, or went).
        public var partitions: [String]
        /// `table.column currency`: signed total -> now.
        public var money: [(key: String, signed: String, now: String)]

        public static func == (lhs: Change, rhs: Change) -> Bool {
            lhs.month == rhs.month && lhs.partitions == rhs.partitions && lhs.money.map(\.key) == rhs.money.map(\.key)
        }
    }

    /// After a run of `prefix`: every month with an active sign-off whose partitions or money are no
    /// longer what was signed. Their sign-offs are withdrawn, naming the run and what moved.
    public static func guardClosedMonths(prefix: String, runID: String, project: PipelineProject,
                                         on connection: Connection) throws -> [Change] {
        let signed = try connection.query("""
            SELECT DISTINCT ON (month) month, fingerprint_json FROM recon_meta.signoffs
            WHERE schema_prefix = \(prefix) AND status = 'active' ORDER BY month, signed_at
            """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
        var changes: [Change] = []
        for (month, json) in signed {
            guard let before = try? JSONDecoder().decode(Fingerprint.self, from: Data(json.utf8)) else { continue }
            let now = try fingerprint(prefix: prefix, month: month, project: project, on: connection)
            let partitions = Set(before.partitions.keys).union(now.partitions.keys).sorted()
                .filter { before.partitions[$0] != now.partitions[$0] }
            let money = Set(before.money.keys).union(now.money.keys).sorted()
                .filter { Cents(before.money[$0] ?? "0") != Cents(now.money[$0] ?? "0") }
                .map { (key: $0, signed: before.money[$0] ?? "0.00", now: now.money[$0] ?? "0.00") }
            guard !partitions.isEmpty || !money.isEmpty else { continue }
            let change = Change(month: month, partitions: partitions, money: money)
            changes.append(change)
            let moved = money.prefix(6).map { "\($0.key) \($0.signed) -> \($0.now)" }.joined(separator: "; ")
            try connection.execute("""
                UPDATE recon_meta.signoffs SET status = 'withdrawn', withdrawn_at = now(),
                       withdrawn_reason = \("run \(runID) changed \(partitions.count) partition(s) of the signed month"
                           + (moved.isEmpty ? "" : "; money moved: " + moved))
                WHERE schema_prefix = \(prefix) AND month = \(month) AND status = 'active'
                """)
        }
        return changes
    }

    /// The failing result a run gets when it changed a signed month: the money that moved, per
    /// table, column and currency, as its sample.
    static func result(for changes: [Change]) -> CheckResult {
        var sample: [[String: JSONValue]] = []
        for change in changes {
            for money in change.money {
                let delta = ((Cents(money.now) ?? Cents(0)) - (Cents(money.signed) ?? Cents(0))).description
                sample.append(["month": .string(change.month), "total": .string(money.key), "signed": .numeral(money.signed),
                               "now": .numeral(money.now), "difference": .numeral(delta)])
            }
            if change.money.isEmpty {
                sample.append(["month": .string(change.month), "total": .string(change.partitions.prefix(3).joined(separator: ", ")),
                               "signed": .null, "now": .null, "difference": .null])
            }
        }
        let months = changes.map(\.month).joined(separator: ", ")
        var result = CheckResult(
            id: "signed_months_unchanged", type: "sign_off", table: "recon_meta.signoffs", layer: .layer(.ads), severity: .error,
            status: .fail, failingRows: changes.reduce(0) { $0 + max(1, $1.money.count) }, observed: [:], sample: sample,
            sql: "-- the fingerprint of each signed month, taken again after the run", durationMS: 0,
            description: "A run must not change a month finance has signed off; the sign-offs of \(months) are withdrawn",
            message: nil)
        result.sampleColumns = ["month", "total", "signed", "now", "difference"]
        result.judgement = "sign-offs withdrawn: reopen the month (recon reopen) and sign it again once the change is understood"
        return result
    }
}

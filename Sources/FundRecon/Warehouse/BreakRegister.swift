import Foundation
import Postgres

/// A persistent warehouse's break register (`recon_meta.break_register`): every break the ADS
/// breaks model ever showed, keyed by its entity (break type, entity type, entity key), with when it
/// was first and last seen, its status (open, resolved, waived), the day it was resolved, its owner
/// and comment. Every `recon run` brings it up to date from the breaks model; the monthly pack lists
/// what was open at the month's end, whatever month it arose in, and what was resolved in the month.
public enum BreakRegister {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case open, resolved, waived
    }

    /// One break as registered.
    public struct Entry: Sendable, Codable, Equatable {
        public var breakType: String
        public var entityType: String
        public var entityKey: String
        public var currency: String?
        public var merchantID: String?
        public var bizDate: String?
        public var amount: String?
        public var detail: String?
        public var firstSeen: String
        public var lastSeen: String
        public var status: Status
        public var resolvedOn: String?
        public var owner: String?
        public var comment: String?
        /// Days from the break's business day to the day it is aged at (the month's end).
        public var ageDays: Int?

        enum CodingKeys: String, CodingKey {
            case currency, amount, detail, status, owner, comment
            case breakType = "break_type"
            case entityType = "entity_type"
            case entityKey = "entity_key"
            case merchantID = "merchant_id"
            case bizDate = "biz_date"
            case firstSeen = "first_seen"
            case lastSeen = "last_seen"
            case resolvedOn = "resolved_on"
            case ageDays = "age_days"
        }
    }

    /// Brings the register of `prefix` up to date with `breaks` (the warehouse's breaks model): new
    /// breaks open, breaks seen again keep their status (a resolved one seen again is open again),
    /// open or waived breaks no longer shown are resolved on `resolvedOn`. Returns (opened, resolved).
    @discardableResult
    public static func sync(prefix: String, breaks: SQL, runID: String, resolvedOn: CalendarDate,
                            on connection: Connection) throws -> (opened: Int, resolved: Int) {
        return try connection.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock(\(RunSession.lockSpace), hashtext(\(prefix + "/breaks")))")
            let opened: Int = try connection.query("""
                WITH current AS (
                  SELECT DISTINCT ON (break_type, entity_type, entity_key::text)
                         break_type, entity_type, entity_key::text AS entity_key, currency::text, merchant_id::text, gateway::text,
                         biz_date, diff_amount, detail
                  FROM \(breaks) ORDER BY break_type, entity_type, entity_key::text, biz_date),
                upserted AS (
                  INSERT INTO recon_meta.break_register AS r (schema_prefix, break_type, entity_type, entity_key, currency, merchant_id,
                                                              gateway, biz_date, diff_amount, detail, first_seen_run, last_seen_run)
                  SELECT \(prefix), break_type, entity_type, entity_key, currency, merchant_id, gateway, biz_date, diff_amount, detail,
                         \(runID), \(runID) FROM current
                  ON CONFLICT (schema_prefix, break_type, entity_type, entity_key) DO UPDATE
                  SET currency = EXCLUDED.currency, merchant_id = EXCLUDED.merchant_id, gateway = EXCLUDED.gateway,
                      biz_date = EXCLUDED.biz_date, diff_amount = EXCLUDED.diff_amount, detail = EXCLUDED.detail,
                      last_seen_run = EXCLUDED.last_seen_run, last_seen_at = now(),
                      status = CASE WHEN r.status = 'resolved' THEN 'open' ELSE r.status END,
                      resolved_on = CASE WHEN r.status = 'resolved' THEN NULL ELSE r.resolved_on END
                  RETURNING (xmax = 0) AS inserted)
                SELECT count(*) FILTER (WHERE inserted) FROM upserted
                """).scalar()
            let resolved = try connection.query("""
                UPDATE recon_meta.break_register SET status = 'resolved', resolved_on = \(resolvedOn.description)::date
                WHERE schema_prefix = \(prefix) AND status <> 'resolved' AND last_seen_run <> \(runID)
                RETURNING 1
                """).count
            return (opened, resolved)
        }
    }

    /// The breaks open at the end of `month` (arisen by then, not resolved by then), aged at its
    /// last day, and those resolved during it; oldest first.
    public static func month(_ month: String, prefix: String, on connection: Connection) throws -> (open: [Entry], resolved: [Entry]) {
        let (first, last) = try SignOffs.bounds(month)
        let entries = try self.entries(prefix: prefix, agedAt: "\(last.description)::date", where: """
            coalesce(biz_date, first_seen_at::date) <= \(last.description)::date
            AND (resolved_on IS NULL OR resolved_on >= \(first.description)::date)
            """, on: connection)
        func resolvedInMonth(_ entry: Entry) -> Bool { entry.resolvedOn.flatMap(CalendarDate.init).map { $0 <= last } ?? false }
        return (entries.filter { !resolvedInMonth($0) }, entries.filter(resolvedInMonth))
    }

    /// Every entry of the register, optionally of one status, aged today.
    public static func list(prefix: String, status: Status?, on connection: Connection) throws -> [Entry] {
        try RunHistory.ensure(on: connection)
        return try entries(prefix: prefix, agedAt: "current_date",
                    where: "(\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))", on: connection)
    }

    /// The register's entries of `prefix` that `condition` keeps, aged at `agedAt`, oldest first.
    static func entries(prefix: String, agedAt: SQL, where condition: SQL, on connection: Connection) throws -> [Entry] {
        try connection.query("""
            SELECT break_type, entity_type, entity_key, currency, merchant_id, biz_date::text, diff_amount::text, detail,
                   to_char(first_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                   status, resolved_on::text, owner, comment, (\(agedAt) - biz_date)
            FROM recon_meta.break_register WHERE schema_prefix = \(prefix) AND \(condition)
            ORDER BY biz_date NULLS LAST, break_type, entity_key
            """).rows.map { row in
            Entry(breakType: try row.decode(String.self, at: 0), entityType: try row.decode(String.self, at: 1),
                  entityKey: try row.decode(String.self, at: 2), currency: row.text(at: 3), merchantID: row.text(at: 4),
                  bizDate: row.text(at: 5), amount: row.text(at: 6), detail: row.text(at: 7), firstSeen: row.text(at: 8) ?? "",
                  lastSeen: row.text(at: 9) ?? "", status: Status(rawValue: row.text(at: 10) ?? "") ?? .open,
                  resolvedOn: row.text(at: 11), owner: row.text(at: 12), comment: row.text(at: 13), ageDays: row.text(at: 14).flatMap { Int($0) })
        }
    }

    /// Sets the owner, comment or status (open or waived) of one break; throws `BadValue` when the
    /// register has no such break.
    public static func annotate(prefix: String, breakType: String, entityType: String?, entityKey: String, owner: String?,
                                comment: String?, status: Status?, on connection: Connection) throws -> Int {
        try RunHistory.ensure(on: connection)
        if status == .resolved { throw BadValue("a break is resolved when the warehouse no longer shows it, not by hand") }
        let updated = try connection.query("""
            UPDATE recon_meta.break_register
            SET owner = coalesce(\(owner), owner), comment = coalesce(\(comment), comment), status = coalesce(\(status?.rawValue), status)
            WHERE schema_prefix = \(prefix) AND break_type = \(breakType) AND entity_key = \(entityKey)
              AND (\(entityType)::text IS NULL OR entity_type = \(entityType))
            RETURNING 1
            """).count
        guard updated > 0 else { throw BadValue("the register of \(prefix) has no \(breakType) break of entity \(entityKey)") }
        return updated
    }
}

extension BreakRegister.Entry {
    /// Whether the break is material: its difference above the amount of its currency (a break
    /// without a difference cannot be weighed and counts as material).
    public func isMaterial(by materiality: Materiality) -> Bool {
        let money = amount.flatMap { Decimal(string: $0) }.map { $0 < 0 ? -$0 : $0 }
        return materiality.isMaterial(money == 0 ? nil : money, currency: currency)
    }
}

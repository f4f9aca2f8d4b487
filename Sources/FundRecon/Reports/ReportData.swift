import Foundation
import Postgres

/// The warehouse figures the HTML and XLSX reports show beside the check results, read from the
/// run's ADS and DWS tables before its schemas are dropped.
public struct ReportData: Sendable, Codable {
    /// Breaks per type and currency (amounts are never added across currencies): count, amount,
    /// and counts by age bucket (0-1, 2-7, 8-30, >30 days, and without a business day: no age).
    public struct BreakType: Sendable, Codable {
        public var breakType: String
        public var count: Int
        public var amount: String
        public var aging: [Int]
        /// The breaks' currency ("" for breaks without one: a malformed record, a missing file).
        public var currency = ""
        /// How many are material (`break_materiality`); nil when the expectations set none.
        public var material: Int?
    }

    /// One break row (the report lists the first few hundred; the workbook all of them).
    public struct BreakRow: Sendable, Codable {
        public var breakType, entityType, entityKey: String
        public var merchantID: String?
        public var gateway, currency, bizDate: String?
        public var expected, actual, difference: String?
        public var ageDays: Int?
        public var detail: String
        /// Above the break materiality (or without money to weigh); nil when none is set.
        public var material: Bool?
    }

    public struct GatewayDay: Sendable, Codable {
        public var gateway, currency, bizDate: String
        public var captured, refunded, settledGross, fees, settledNet, payouts: String
    }

    public struct StatementRow: Sendable, Codable {
        public var merchantID: Int
        public var merchantName, currency, month: String
        public var opening, gross, merchantDiscount, platformDiscount, refunds, commission, netPayable, payouts, closing: String
    }

    public var breakTypes: [BreakType] = []
    /// The money above which a break is material, when the expectations set one.
    public var breakMateriality: Materiality?
    /// The first breaks (what the HTML lists); the workbook streams all of them from a `BreakSource`.
    public var breaks: [BreakRow] = []
    public var breakCount = 0
    public var gatewayDays: [GatewayDay] = []
    /// biz_date -> break type -> count.
    public var breaksPerDay: [String: [String: Int]] = [:]
    /// currency -> biz_date -> 24 hourly gross sales.
    public var heatMaps: [String: [String: [String]]] = [:]
    /// merchant label -> (date, closing balance), for the largest merchants.
    public var balances: [String: [[String]]] = [:]
    public var statements: [StatementRow] = []
    /// The month's gateway bridges: gateway, currency, then the bridge's amounts in
    /// `ReportData.bridgeColumns` order.
    public var bridges: [[String]] = []
    /// The prior month, for month-over-month columns: `merchant currency` -> [net payable, closing];
    /// `gateway currency` -> its bridge amounts; currency -> break count.
    public var priorStatements: [String: [String]] = [:]
    public var priorBridges: [String: [String]] = [:]
    public var priorBreakCounts: [String: Int] = [:]

    /// The bridge's amounts, in order, with the sign they enter the bridge with.
    public static let bridgeColumns: [(column: String, label: String)] = [
        ("sales", "Sales (orders captured)"), ("captured_beyond_sales", "+ captured beyond sales"),
        ("captured", "= captured"), ("captured_settled_later", "− captured, settled later"),
        ("settled_for_earlier", "+ settled for earlier captures"), ("refunds_settled", "+ refunds settled"),
        ("unexplained", "+ unexplained"), ("settled_gross", "= settled gross"), ("fees", "− fees"),
        ("settled_net", "= settled net"), ("paid_out", "− paid out"), ("in_transit", "= in transit"),
    ]

    /// How many rows the figures hold (what `write_reports` counts).
    public var rowCount: Int {
        breakTypes.count + breaks.count + gatewayDays.count + heatMaps.values.reduce(0) { $0 + $1.count } + balances.values.reduce(0) { $0 + $1.count }
            + statements.count + bridges.count
    }

    /// Reads the figures from a built warehouse; `month` limits statements and breaks to one month.
    public static func collect(tables: ReportTables.Located, connection: Connection, zone: String, month: String? = nil,
                               breakMateriality: Materiality? = nil, breakLimit: Int = 200) throws -> ReportData {
        let monthFilter: SQL = month.map { "date_trunc('month', biz_date)::date = \($0 + "-01")::date" } ?? "true"
        let breaksInMonth: SQL = month == nil ? "true" : "(biz_date IS NULL OR \(monthFilter))"
        var data = ReportData()
        data.breakMateriality = breakMateriality
        var sql: SQL = """
            SELECT break_type, count(*), coalesce(sum(\(breakMoney)), 0)::numeric(18,2),
                   count(*) FILTER (WHERE age_days <= 1), count(*) FILTER (WHERE age_days BETWEEN 2 AND 7),
                   count(*) FILTER (WHERE age_days BETWEEN 8 AND 30), count(*) FILTER (WHERE age_days > 30),
                   count(*) FILTER (WHERE age_days IS NULL), coalesce(currency, ''),
                   count(*) FILTER (WHERE \(material(breakMateriality)))
            FROM \(tables.breaks) WHERE \(breaksInMonth)
            GROUP BY 1, 9 ORDER BY 9, 2 DESC, 1
            """
        for row in try connection.query(sql).rows {
            var type = BreakType(
                breakType: try row.decode(at: 0), count: try row.decode(at: 1), amount: try row.decode(at: 2),
                aging: [try row.decode(at: 3), try row.decode(at: 4), try row.decode(at: 5), try row.decode(at: 6), try row.decode(at: 7)])
            type.currency = try row.decode(at: 8)
            if breakMateriality != nil { type.material = try row.decode(at: 9) }
            data.breakTypes.append(type)
        }
        data.breakCount = data.breakTypes.reduce(0) { $0 + $1.count }
        try breaks(table: tables.breaks, connection: connection, month: month, materiality: breakMateriality, limit: breakLimit) {
            data.breaks.append($0)
        }
        sql = """
            SELECT gateway, currency, biz_date::text, captured_amount::text, refund_amount::text, settled_gross::text,
                   settled_fees::text, settled_net::text, payout_amount::text
            FROM \(tables.gatewayDaily) WHERE \(monthFilter) ORDER BY biz_date, gateway, currency
            """
        for row in try connection.query(sql).rows {
            let t = row.texts.map { $0 ?? "0" }
            data.gatewayDays.append(GatewayDay(gateway: t[0], currency: t[1], bizDate: t[2], captured: t[3], refunded: t[4],
                                               settledGross: t[5], fees: t[6], settledNet: t[7], payouts: t[8]))
        }
        sql = """
            SELECT biz_date::text, break_type, count(*) FROM \(tables.breaks)
            WHERE biz_date IS NOT NULL AND \(monthFilter) GROUP BY 1, 2
            """
        for row in try connection.query(sql).rows {
            data.breaksPerDay[try row.decode(at: 0), default: [:]][try row.decode(at: 1)] = try row.decode(at: 2)
        }
        // One heat map per currency: amounts are never added across currencies.
        sql = """
            SELECT currency, biz_date::text, extract(hour FROM hour_start AT TIME ZONE \(zone))::int, sum(gross_sales)::text
            FROM \(tables.merchantHourly) WHERE \(monthFilter)
            GROUP BY 1, 2, 3
            """
        for row in try connection.query(sql).rows {
            let (currency, day): (String, String) = (try row.decode(at: 0), try row.decode(at: 1))
            var hours = data.heatMaps[currency]?[day] ?? Array(repeating: "0", count: 24)
            let hour: Int = try row.decode(at: 2)
            if (0..<24).contains(hour) { hours[hour] = try row.decode(at: 3) }
            data.heatMaps[currency, default: [:]][day] = hours
        }
        sql = """
            WITH top AS (SELECT merchant_id, currency FROM \(tables.merchantDaily) WHERE \(monthFilter)
                         GROUP BY 1, 2 ORDER BY sum(gross_sales) DESC LIMIT 6)
            SELECT 'M' || b.merchant_id || ' ' || b.currency, b.biz_date::text, b.closing_balance::text
            FROM \(tables.merchantBalance) b JOIN top USING (merchant_id, currency)
            WHERE \(monthFilter) ORDER BY 1, 2
            """
        for row in try connection.query(sql).rows {
            data.balances[try row.decode(at: 0), default: []].append([try row.decode(at: 1), try row.decode(at: 2)])
        }
        sql = """
            SELECT s.merchant_id, coalesce(m.merchant_name, ''), s.currency, to_char(s.month_start, 'YYYY-MM'),
                   s.opening_balance::text, s.gross_sales::text, s.merchant_discount::text, s.platform_discount::text,
                   s.refund_amount::text, s.commission_amount::text, s.net_payable::text, s.payouts::text, s.closing_balance::text
            FROM \(tables.monthlyStatement) s LEFT JOIN \(tables.merchants) m USING (merchant_id)
            WHERE \(month.map { "s.month_start = \($0 + "-01")::date" as SQL } ?? "true")
            ORDER BY s.month_start, s.currency, s.merchant_id
            """
        for row in try connection.query(sql).rows {
            let t = row.texts.map { $0 ?? "" }
            data.statements.append(StatementRow(
                merchantID: try row.decode(at: 0), merchantName: t[1], currency: t[2], month: t[3], opening: t[4], gross: t[5],
                merchantDiscount: t[6], platformDiscount: t[7], refunds: t[8], commission: t[9], netPayable: t[10],
                payouts: t[11], closing: t[12]))
        }
        if let bridge = tables.gatewayBridge, let month {
            let columns = ReportData.bridgeColumns.map { "\(identifier: $0.column)::text" as SQL }.joined(separator: ", ")
            for row in try connection.query("""
                SELECT gateway, currency, \(columns) FROM \(bridge) WHERE month_start = \(month + "-01")::date ORDER BY currency, gateway
                """).rows {
                data.bridges.append(row.texts.map { $0 ?? "0.00" })
            }
            if let prior = ReportData.priorMonth(month) {
                for row in try connection.query("""
                    SELECT gateway || ' ' || currency, \(columns) FROM \(bridge) WHERE month_start = \(prior + "-01")::date
                    """).rows {
                    let texts = row.texts.map { $0 ?? "0.00" }
                    data.priorBridges[texts[0]] = Array(texts.dropFirst())
                }
            }
        }
        if let month, let prior = ReportData.priorMonth(month) {
            for row in try connection.query("""
                SELECT merchant_id || ' ' || currency, net_payable::text, closing_balance::text FROM \(tables.monthlyStatement)
                WHERE month_start = \(prior + "-01")::date
                """).rows {
                let texts = row.texts.map { $0 ?? "0.00" }
                data.priorStatements[texts[0]] = [texts[1], texts[2]]
            }
            for row in try connection.query("""
                SELECT coalesce(currency, ''), count(*) FROM \(tables.breaks)
                WHERE date_trunc('month', biz_date)::date = \(prior + "-01")::date GROUP BY 1
                """).rows {
                data.priorBreakCounts[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
            }
        }
        return data
    }

    /// The days' gateway figures summed per gateway and currency, ordered by currency then gateway:
    /// captured, refunded, settled gross, fees, settled net, payouts (what the HTML's gateway
    /// summary and the workbook's Gateway month show).
    var gatewayTotals: [(gateway: String, currency: String, sums: [Cents])] {
        var totals: [String: (gateway: String, currency: String, sums: [Cents])] = [:]
        for day in gatewayDays {
            let key = day.currency + " " + day.gateway
            var entry = totals[key] ?? (day.gateway, day.currency, Array(repeating: Cents(0), count: 6))
            for (index, text) in [day.captured, day.refunded, day.settledGross, day.fees, day.settledNet, day.payouts].enumerated() {
                entry.sums[index] = entry.sums[index] + (Cents(text) ?? Cents(0))
            }
            totals[key] = entry
        }
        return totals.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The month before `YYYY-MM`.
    static func priorMonth(_ month: String) -> String? {
        guard let first = CalendarDate(month + "-01") else { return nil }
        return String(first.adding(days: -1).description.prefix(7))
    }

    /// Whether a month-over-month change is worth a reader's look: a figure that appeared, went,
    /// or moved by more than half of what it was.
    static func isVariance(prior: String?, now: String) -> Bool {
        guard let prior, let before = Cents(prior), let after = Cents(now) else { return prior == nil && Cents(now) != Cents(0) }
        if before.rawValue == 0 { return after.rawValue != 0 }
        return abs(after.rawValue - before.rawValue) * 2 > abs(before.rawValue)
    }

    /// Every break of a run (of a month), one row at a time: what the workbook's Breaks sheet streams,
    /// so a million breaks never sit in memory.
    public static func breakSource(table: SQL, connection: Connection, month: String?, materiality: Materiality?) -> BreakSource {
        { sink in try breaks(table: table, connection: connection, month: month, materiality: materiality, limit: nil, sink) }
    }

    /// A break's money at stake: its difference, or the whole amount when it is late, unsettled or misfiled.
    static let breakMoney: SQL = "coalesce(nullif(abs(diff_amount), 0), abs(expected_amount), abs(actual_amount))"

    /// Whether a break row is material (`Materiality.isMaterial`, in SQL): above its currency's
    /// amount, or without money or an amount to weigh it by.
    static func material(_ materiality: Materiality?) -> SQL {
        guard let materiality else { return "false" }
        let every: SQL = materiality.amounts["*"].map { "\($0)::numeric" } ?? "NULL::numeric"
        let currencies = materiality.amounts.filter { $0.key != "*" }.sorted { $0.key < $1.key }
        let limit: SQL = currencies.isEmpty ? every
            : "CASE coalesce(currency, '')" + currencies.map { (pair) -> SQL in " WHEN \(pair.key) THEN \(pair.value)::numeric" }.joined() + " ELSE \(every) END"
        return "(\(breakMoney) IS NULL OR \(limit) IS NULL OR \(breakMoney) > \(limit))"
    }

    static func breaks(table: SQL, connection: Connection, month: String?, materiality: Materiality?, limit: Int?,
                       _ sink: (BreakRow) throws -> Void) throws {
        let monthFilter: SQL = month.map { "(biz_date IS NULL OR date_trunc('month', biz_date)::date = \($0 + "-01")::date)" } ?? "true"
        let limited: SQL = limit.map { " LIMIT \(integer: $0)" } ?? ""
        let sql: SQL = """
            SELECT break_type, entity_type, entity_key, merchant_id::text, gateway, currency, biz_date::text,
                   expected_amount::text, actual_amount::text, diff_amount::text, age_days, detail, \(material(materiality))
            FROM \(table) WHERE \(monthFilter)
            ORDER BY break_type, biz_date NULLS LAST, entity_key\(limited)
            """
        try connection.forEachRow(sql) { row in
            try sink(BreakRow(
                breakType: try row.decode(at: 0), entityType: try row.decode(at: 1), entityKey: try row.decode(at: 2),
                merchantID: row.text(at: 3), gateway: row.text(at: 4), currency: row.text(at: 5), bizDate: row.text(at: 6),
                expected: row.text(at: 7), actual: row.text(at: 8), difference: row.text(at: 9),
                ageDays: try row.decode(Int?.self, at: 10), detail: try row.decode(at: 11),
                material: materiality == nil ? nil : try row.decode(Bool.self, at: 12)))
        }
    }
}

/// Pushes break rows, one at a time, into the sink it is given.
public typealias BreakSource = ((ReportData.BreakRow) throws -> Void) throws -> Void

import Postgres

/// The SQL type of a source column, and how its text is checked before it reaches COPY.
enum ColumnType {
    case bigint
    case text
    /// numeric(18,2): at most two fraction digits.
    case money
    /// numeric(p,s) with s fraction digits at most.
    case decimal(precision: Int, scale: Int)
    /// ISO 8601 with an offset (`2026-10-03T10:15:00Z`).
    case timestampWithOffset
    /// `YYYY-MM-DD HH:MM:SS` in UTC (Stripe's `*_utc`).
    case timestampUTC
    /// `YYYY-MM-DD HH:MM:SS` in a zone given by another column (Adyen's Creation Date).
    case timestampLocal
    case date
    case boolean
    /// A time zone name PostgreSQL knows (Adyen's TimeZone), stored as text.
    case timeZone

    var sql: SQL {
        switch self {
        case .bigint: return "bigint"
        case .text: return "text"
        case .money: return "numeric(18,2)"
        case .decimal(let precision, let scale): return "numeric(\(integer: precision),\(integer: scale))"
        case .timestampWithOffset, .timestampUTC: return "timestamptz"
        case .timestampLocal: return "timestamp"
        case .date: return "date"
        case .boolean: return "boolean"
        case .timeZone: return "text"
        }
    }
}

/// A column of a source file: its name in the file, its name in ODS, its type.
struct SourceColumn {
    let header: String
    let name: String
    let type: ColumnType
    /// The row's event time: it places the row in a period, and must fall in the plausible window.
    let isEvent: Bool

    init(_ name: String, _ type: ColumnType, header: String? = nil, event: Bool = false) {
        self.header = header ?? name
        self.name = name
        self.type = type
        self.isEvent = event
    }
}

/// A source file kind and the table it loads into.
struct SourceTable {
    /// `oltp`, `reseller`, `stripe` or `adyen`: the `source` of its rejects.
    let source: String
    /// The table's name (an extract's in the oltp schema; it loads into `ods_<table>`, and the
    /// oltp schema shows it as a view).
    let table: String
    /// A fact extract's key, the column DWD's de-duplication numbers rows within. In a run's own
    /// schemas on a Citus coordinator its table is distributed on it, so that de-duplication runs
    /// on the workers (docs/scale-out.md); reference data and the file tables stay on the coordinator.
    var key: String?
    let columns: [SourceColumn]
    /// Extra columns the loader fills from the file itself (name, SQL type).
    var fileColumns: [(name: String, sql: SQL)] = []

    /// The column holding the row's event time, if the table has one.
    var eventColumn: String? { columns.first(where: \.isEvent)?.name }

    /// DDL for the table (or a table of its columns named `name`), with the lineage columns every ODS row carries.
    func createSQL(schema: String, as name: String? = nil) -> SQL {
        var parts = columns.map { "\(identifier: $0.name) \($0.type.sql)" as SQL }
        parts += fileColumns.map { "\(identifier: $0.name) \($0.sql)" as SQL }
        parts += ["_source_file text NOT NULL", "_source_line integer NOT NULL", "_loaded_at timestamptz NOT NULL DEFAULT now()"]
        return "CREATE TABLE \(schema: schema, table: name ?? table) (\n  \(parts.joined(separator: ",\n  "))\n)"
    }

    /// The COPY statement feeding the table, or `name` (every column but `_loaded_at`).
    func copySQL(schema: String, into name: String? = nil) -> SQL {
        let names = columns.map { "\(identifier: $0.name)" as SQL } + fileColumns.map { "\(identifier: $0.name)" as SQL }
            + ["_source_file", "_source_line"]
        return "COPY \(schema: schema, table: name ?? table) (\(names.joined(separator: ", "))) FROM STDIN"
    }
}

/// Every source of DATA_CONTRACT.md section 1 with its columns.
enum Sources {
    static let extracts: [(file: String, table: SourceTable)] = [
        ("merchants.csv", SourceTable(source: "oltp", table: "merchants", columns: [
            .init("merchant_id", .bigint), .init("merchant_name", .text), .init("category", .text),
            .init("commission_rate", .decimal(precision: 5, scale: 4)), .init("currency", .text),
            .init("onboarded_at", .timestampWithOffset),
        ])),
        ("resellers.csv", SourceTable(source: "oltp", table: "resellers", columns: [
            .init("reseller_id", .text), .init("reseller_name", .text), .init("merchant_id", .bigint),
            .init("file_format", .text),
        ])),
        ("vouchers.csv", SourceTable(source: "oltp", table: "vouchers", columns: [
            .init("voucher_code", .text), .init("funded_by", .text), .init("discount_type", .text),
            .init("discount_value", .money), .init("valid_from", .timestampWithOffset),
            .init("valid_to", .timestampWithOffset),
        ])),
        ("orders.csv", SourceTable(source: "oltp", table: "orders", key: "order_id", columns: [
            .init("order_id", .bigint), .init("merchant_id", .bigint), .init("customer_id", .bigint),
            .init("channel", .text), .init("reseller_id", .text), .init("currency", .text),
            .init("gross_amount", .money), .init("voucher_code", .text), .init("voucher_discount", .money),
            .init("status", .text), .init("created_at", .timestampWithOffset, event: true),
        ])),
        ("payments.csv", SourceTable(source: "oltp", table: "payments", key: "payment_id", columns: [
            .init("payment_id", .bigint), .init("order_id", .bigint), .init("gateway", .text),
            .init("gateway_txn_ref", .text), .init("currency", .text), .init("amount", .money),
            .init("status", .text), .init("captured_at", .timestampWithOffset, event: true),
        ])),
        ("refunds.csv", SourceTable(source: "oltp", table: "refunds", key: "refund_id", columns: [
            .init("refund_id", .bigint), .init("order_id", .bigint), .init("payment_id", .bigint),
            .init("gateway_refund_ref", .text), .init("currency", .text), .init("amount", .money),
            .init("reason", .text), .init("refunded_at", .timestampWithOffset, event: true),
        ])),
        ("voucher_redemptions.csv", SourceTable(source: "oltp", table: "voucher_redemptions", key: "redemption_id", columns: [
            .init("redemption_id", .bigint), .init("voucher_code", .text), .init("order_id", .bigint),
            .init("amount", .money), .init("redeemed_at", .timestampWithOffset, event: true),
        ])),
        ("commissions.csv", SourceTable(source: "oltp", table: "commissions", key: "commission_id", columns: [
            .init("commission_id", .bigint), .init("order_id", .bigint), .init("merchant_id", .bigint),
            .init("refund_id", .bigint), .init("base_amount", .money), .init("rate", .decimal(precision: 5, scale: 4)),
            .init("amount", .money), .init("currency", .text), .init("charged_at", .timestampWithOffset, event: true),
        ])),
        ("merchant_payouts.csv", SourceTable(source: "oltp", table: "merchant_payouts", key: "payout_id", columns: [
            .init("payout_id", .bigint), .init("merchant_id", .bigint), .init("currency", .text),
            .init("amount", .money), .init("paid_at", .timestampWithOffset, event: true),
        ])),
    ]

    static let stripeTransactions = SourceTable(
        source: "stripe", table: "ods_stripe_balance_transactions",
        columns: [
            .init("balance_transaction_id", .text), .init("created_utc", .timestampUTC, event: true),
            .init("available_on_utc", .timestampUTC), .init("currency", .text), .init("gross", .money),
            .init("fee", .money), .init("net", .money), .init("reporting_category", .text), .init("source_id", .text),
            .init("charge_id", .text), .init("automatic_payout_id", .text),
            .init("automatic_payout_effective_at_utc", .timestampUTC),
        ],
        fileColumns: [("file_date", "date")])

    static let stripePayouts = SourceTable(
        source: "stripe", table: "ods_stripe_payouts",
        columns: [
            .init("payout_id", .text), .init("effective_at_utc", .timestampUTC, event: true), .init("currency", .text),
            .init("amount", .money),
        ],
        fileColumns: [("file_date", "date")])

    static let adyenDetails = SourceTable(
        source: "adyen", table: "ods_adyen_settlement_details",
        columns: [
            "Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
        ].map { SourceColumn(snakeCase($0), .text, header: $0) } + [
            .init("creation_date", .timestampLocal, header: "Creation Date", event: true),
            .init("timezone", .timeZone, header: "TimeZone"), .init("type", .text, header: "Type"),
            .init("modification_reference", .text, header: "Modification Reference"),
            .init("gross_currency", .text, header: "Gross Currency"),
            .init("gross_debit_gc", .money, header: "Gross Debit (GC)"),
            .init("gross_credit_gc", .money, header: "Gross Credit (GC)"),
            .init("exchange_rate", .decimal(precision: 18, scale: 8), header: "Exchange Rate"),
            .init("net_currency", .text, header: "Net Currency"),
            .init("net_debit_nc", .money, header: "Net Debit (NC)"),
            .init("net_credit_nc", .money, header: "Net Credit (NC)"),
            .init("commission_nc", .money, header: "Commission (NC)"),
            .init("markup_nc", .money, header: "Markup (NC)"),
            .init("scheme_fees_nc", .money, header: "Scheme Fees (NC)"),
            .init("interchange_nc", .money, header: "Interchange (NC)"),
            .init("batch_number", .bigint, header: "Batch Number"),
        ])

    static let resellerSales = SourceTable(
        source: "reseller", table: "ods_reseller_sales",
        columns: [
            .init("reseller_id", .text), .init("file_id", .text), .init("report_date", .date), .init("txn_id", .text),
            .init("order_ref", .text), .init("sold_at", .timestampWithOffset), .init("currency", .text),
            .init("amount", .money), .init("source_format", .text),
        ])

    static let resellerFiles = SourceTable(
        source: "reseller", table: "ods_reseller_files",
        columns: [
            .init("file_id", .text), .init("reseller_id", .text), .init("report_date", .date),
            .init("source_format", .text), .init("declared_count", .bigint), .init("declared_total", .money),
            .init("has_trailer", .boolean),
        ])

    /// The ODS tables loaded straight from flat files (gateway and reseller), created and analyzed by ingest.
    static var fileTables: [SourceTable] { [stripeTransactions, stripePayouts, adyenDetails, resellerSales, resellerFiles] }

    /// `Gross Debit (GC)` -> `gross_debit_gc`: lower case, every run of other characters one `_`.
    static func snakeCase(_ header: String) -> String {
        var result = ""
        var pendingUnderscore = false
        for character in header.lowercased() {
            if character.isLetter || character.isNumber {
                if pendingUnderscore && !result.isEmpty { result.append("_") }
                pendingUnderscore = false
                result.append(character)
            } else {
                pendingUnderscore = true
            }
        }
        return result
    }
}

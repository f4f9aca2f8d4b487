/// Plain SQL for rules R1..R13 over the ODS tables, independent of the later expectations engine.
/// Each query returns one text column, `key`: the keys of the rows that break the rule. They run
/// with the run's ods schema first on the search_path.
enum RuleQueries {
    /// Settlement lines of both gateways in one shape (what DWD will later do properly).
    static let lines = """
        WITH adyen_payout AS (
          SELECT batch_number, creation_date::date AS paid_on
          FROM ods_adyen_settlement_details WHERE type = 'MerchantPayout'),
        lines AS (
          SELECT 'stripe' AS gateway, CASE reporting_category WHEN 'refund' THEN source_id ELSE charge_id END AS ref,
                 reporting_category AS line_type, upper(currency) AS currency, gross, fee, net,
                 created_utc AS transaction_at, file_date AS settled_on,
                 CASE WHEN reporting_category = 'charge' THEN round(gross * 0.029, 2) + 0.30 ELSE 0 END AS schedule_fee
          FROM ods_stripe_balance_transactions
          UNION ALL
          SELECT 'adyen', CASE d.type WHEN 'Refunded' THEN modification_reference ELSE psp_reference END,
                 CASE d.type WHEN 'Refunded' THEN 'refund' ELSE 'charge' END, gross_currency,
                 coalesce(gross_credit_gc, 0) - coalesce(gross_debit_gc, 0),
                 commission_nc + markup_nc + scheme_fees_nc + interchange_nc,
                 coalesce(net_credit_nc, 0) - coalesce(net_debit_nc, 0),
                 creation_date AT TIME ZONE timezone, p.paid_on,
                 CASE WHEN d.type = 'Settled'
                      THEN 0.10 + round(gross_credit_gc * 0.006, 2) + 0.02 + round(gross_credit_gc * 0.011, 2)
                      ELSE 0 END
          FROM ods_adyen_settlement_details d JOIN adyen_payout p USING (batch_number)
          WHERE d.type IN ('Settled', 'Refunded'))
        """

    static let queries: [AnomalyClassKey: String] = [
        .duplicateCapture: """
            SELECT order_id::text AS key FROM ods_payments WHERE status = 'captured'
            GROUP BY order_id HAVING count(DISTINCT payment_id) > 1
            """,
        .voucherMismatch: """
            SELECT o.order_id::text FROM ods_orders o
            LEFT JOIN (SELECT order_id, sum(amount) AS total FROM ods_voucher_redemptions GROUP BY 1) r USING (order_id)
            WHERE o.voucher_discount <> coalesce(r.total, 0)
            """,
        .refundExceedsCapture: """
            SELECT r.order_id::text FROM (SELECT order_id, sum(amount) AS refunded FROM ods_refunds GROUP BY 1) r
            JOIN (SELECT order_id, sum(amount) AS captured FROM ods_payments WHERE status = 'captured' GROUP BY 1) p
              USING (order_id)
            WHERE r.refunded > p.captured
            """,
        .commissionMismatch: """
            SELECT c.commission_id::text FROM ods_commissions c JOIN ods_orders o USING (order_id)
            LEFT JOIN ods_vouchers v ON v.voucher_code = o.voucher_code
            LEFT JOIN ods_refunds r ON r.refund_id = c.refund_id
            WHERE abs(c.amount - CASE WHEN c.refund_id IS NULL
                    THEN round(c.rate * (o.gross_amount - CASE WHEN v.funded_by = 'merchant' THEN o.voucher_discount ELSE 0 END), 2)
                    ELSE -round(c.rate * r.amount, 2) END) > 0.01
            """,
        .missingSettlement: lines + """
            SELECT p.gateway_txn_ref FROM ods_payments p
            WHERE p.status = 'captured' AND NOT EXISTS (SELECT 1 FROM lines l WHERE l.ref = p.gateway_txn_ref AND l.line_type = 'charge')
            """,
        .orphanSettlement: lines + """
            SELECT l.ref FROM lines l WHERE l.line_type = 'charge'
              AND NOT EXISTS (SELECT 1 FROM ods_payments p WHERE p.gateway_txn_ref = l.ref)
            """,
        .settlementAmountMismatch: lines + """
            SELECT p.gateway_txn_ref FROM ods_payments p JOIN lines l ON l.ref = p.gateway_txn_ref AND l.line_type = 'charge'
            WHERE l.gross <> p.amount
            """,
        .currencyMismatch: lines + """
            SELECT p.gateway_txn_ref FROM ods_payments p JOIN lines l ON l.ref = p.gateway_txn_ref AND l.line_type = 'charge'
            WHERE l.currency <> p.currency
            """,
        .lateSettlement: lines + """
            SELECT p.gateway_txn_ref FROM ods_payments p JOIN lines l ON l.ref = p.gateway_txn_ref AND l.line_type = 'charge'
            WHERE l.settled_on - (p.captured_at AT TIME ZONE 'UTC')::date > 3
            """,
        .timezoneShift: lines + """
            SELECT p.gateway_txn_ref FROM ods_payments p JOIN lines l ON l.ref = p.gateway_txn_ref AND l.line_type = 'charge'
            WHERE abs(extract(epoch FROM l.transaction_at - p.captured_at)) >= 3600
            """,
        .feeMismatch: lines + """
            SELECT l.ref FROM lines l WHERE l.fee <> l.schedule_fee OR l.net <> l.gross - l.fee
            """,
        .payoutMismatch: lines + """
            SELECT 'stripe:' || p.payout_id FROM ods_stripe_payouts p
            LEFT JOIN (SELECT automatic_payout_id, sum(net) AS total FROM ods_stripe_balance_transactions GROUP BY 1) t
              ON t.automatic_payout_id = p.payout_id
            WHERE p.amount <> coalesce(t.total, 0)
            UNION ALL
            SELECT 'adyen:' || m.batch_number FROM ods_adyen_settlement_details m
            JOIN (SELECT batch_number, sum(coalesce(net_credit_nc, 0) - coalesce(net_debit_nc, 0)) AS total
                  FROM ods_adyen_settlement_details WHERE type <> 'MerchantPayout' GROUP BY 1) t USING (batch_number)
            WHERE m.type = 'MerchantPayout' AND m.net_debit_nc <> t.total
            """,
        .resellerControlTotalMismatch: """
            SELECT f.file_id FROM ods_reseller_files f
            LEFT JOIN (SELECT file_id, count(*) AS n, sum(amount) AS total FROM ods_reseller_sales GROUP BY 1) s USING (file_id)
            WHERE f.has_trailer AND (f.declared_count <> coalesce(s.n, 0) OR f.declared_total <> coalesce(s.total, 0))
            """,
        .resellerUnmatchedSale: """
            SELECT s.txn_id FROM ods_reseller_sales s
            WHERE NOT EXISTS (SELECT 1 FROM ods_orders o WHERE o.order_id::text = s.order_ref
                              AND o.gross_amount = s.amount AND o.currency = s.currency AND o.channel = 'reseller')
            UNION
            SELECT o.order_id::text FROM ods_orders o
            WHERE o.channel = 'reseller' AND o.status = 'paid'
              AND NOT EXISTS (SELECT 1 FROM ods_reseller_sales s WHERE s.order_ref = o.order_id::text)
            """,
        .resellerDuplicateLine: """
            SELECT txn_id FROM ods_reseller_sales GROUP BY txn_id HAVING count(*) > 1
            """,
        .resellerTruncatedFile: """
            SELECT file_id FROM ods_reseller_files WHERE NOT has_trailer
            """,
        .malformedRecord: """
            SELECT file || ':' || line FROM ods_rejects
            UNION ALL
            SELECT file FROM ods_file_loads WHERE rows_read <> rows_loaded + rows_rejected
            """,
        .missingGatewayFile: """
            SELECT 'stripe:' || d::date FROM generate_series(
              (SELECT min(file_date) FROM ods_stripe_payouts), (SELECT max(file_date) FROM ods_stripe_payouts), '1 day') d
            WHERE d::date NOT IN (SELECT file_date FROM ods_stripe_payouts)
            UNION ALL
            SELECT 'adyen:' || b FROM generate_series(
              (SELECT min(batch_number) FROM ods_adyen_settlement_details),
              (SELECT max(batch_number) FROM ods_adyen_settlement_details)) b
            WHERE b NOT IN (SELECT batch_number FROM ods_adyen_settlement_details)
            UNION ALL
            SELECT file FROM ods_file_loads WHERE source = 'oltp' AND (status = 'missing' OR rows_loaded = 0)
            """,
        .duplicateSourceRow: """
            SELECT payment_id::text FROM ods_payments GROUP BY payment_id HAVING count(*) > 1
            UNION ALL
            SELECT order_id::text FROM ods_orders GROUP BY order_id HAVING count(*) > 1
            """,
    ]
}

/// The anomaly classes by name, so the test target can key its queries without the generator's enum order.
enum AnomalyClassKey: String, CaseIterable {
    case duplicateCapture = "duplicate_capture", duplicateSourceRow = "duplicate_source_row"
    case missingSettlement = "missing_settlement", orphanSettlement = "orphan_settlement"
    case settlementAmountMismatch = "settlement_amount_mismatch", feeMismatch = "fee_mismatch"
    case payoutMismatch = "payout_mismatch", refundExceedsCapture = "refund_exceeds_capture"
    case commissionMismatch = "commission_mismatch", voucherMismatch = "voucher_mismatch"
    case lateSettlement = "late_settlement", currencyMismatch = "currency_mismatch"
    case resellerControlTotalMismatch = "reseller_control_total_mismatch"
    case resellerUnmatchedSale = "reseller_unmatched_sale", resellerDuplicateLine = "reseller_duplicate_line"
    case resellerTruncatedFile = "reseller_truncated_file", malformedRecord = "malformed_record"
    case missingGatewayFile = "missing_gateway_file", timezoneShift = "timezone_shift"

    /// The key the rule query returns for an instance listed in manifest.json.
    func expectedKey(_ keys: [String: String]) -> String? {
        switch self {
        case .duplicateCapture, .voucherMismatch, .refundExceedsCapture: return keys["order_id"]
        case .commissionMismatch: return keys["commission_id"]
        case .duplicateSourceRow: return keys["payment_id"]
        case .missingSettlement, .orphanSettlement, .settlementAmountMismatch, .currencyMismatch, .lateSettlement,
            .timezoneShift, .feeMismatch:
            return keys["gateway_txn_ref"]
        case .payoutMismatch:
            return keys["gateway"] == "stripe" ? keys["payout_id"].map { "stripe:" + $0 } : keys["batch"].map { "adyen:" + $0 }
        case .missingGatewayFile:
            return keys["gateway"] == "stripe" ? keys["date"].map { "stripe:" + $0 } : keys["batch"].map { "adyen:" + $0 }
        case .resellerControlTotalMismatch, .resellerTruncatedFile: return keys["file_id"]
        case .resellerUnmatchedSale, .resellerDuplicateLine: return keys["txn_id"]
        case .malformedRecord: return keys["file"].flatMap { file in keys["line"].map { file + ":" + $0 } }
        }
    }
}

import Foundation
import Postgres

extension GeneratorRun {
    /// Applies the settlement-side anomalies to a capture's line, then queues it (or not).
    func applySettlementAnomalies(
        _ anomalies: Set<AnomalyClass>, payment: inout SettlementLine, orderID: Int64, merchant: Merchant
    ) {
        let keys = ["order_id": String(orderID), "payment_id": String(payment.paymentID),
                    "gateway_txn_ref": payment.chargeRef.string, "gateway": payment.gateway.rawValue]
        var delay = 0
        if anomalies.contains(.missingSettlement) {
            record(.missingSettlement, keys: keys, amount: Money.text(payment.gross),
                   detail: "the gateway never settled this capture")
            return
        }
        if anomalies.contains(.orphanSettlement) {
            let ref = payment.gateway == .stripe ? "ch_" + random.hex(24) : nextPSPReference()
            let orphan = settlementLine(
                gateway: payment.gateway, isRefund: false, chargeRef: ref, refundRef: "", paymentID: 0,
                currency: payment.currency, gross: Int64(500 + random.below(5000)), at: payment.eventTime + 30)
            queue(orphan)
            record(.orphanSettlement, keys: ["gateway_txn_ref": ref, "gateway": payment.gateway.rawValue],
                   amount: Money.text(orphan.gross), detail: "a settled charge that matches no payment")
        }
        if anomalies.contains(.settlementAmountMismatch) {
            let delta = max(1, min(100, payment.gross / 2))
            let expected = payment.gross
            let reissued = settlementLine(
                gateway: payment.gateway, isRefund: false, chargeRef: payment.chargeRef.string, refundRef: "",
                paymentID: payment.paymentID, currency: payment.currency, gross: expected - delta, at: payment.eventTime)
            payment = reissued
            record(.settlementAmountMismatch, keys: keys, amount: Money.text(delta),
                   detail: "settled gross \(Money.text(expected - delta)) for a capture of \(Money.text(expected))")
        }
        if anomalies.contains(.feeMismatch) {
            payment.fees[0] += 5
            record(.feeMismatch, keys: keys, amount: Money.text(5),
                   detail: "fee \(Money.text(payment.fee)) where the schedule gives \(Money.text(payment.fee - 5))")
        }
        if anomalies.contains(.currencyMismatch) {
            let original = payment.currency
            payment.accountCurrency = original
            payment.currency = original == "USD" ? "EUR" : "USD"
            record(.currencyMismatch, keys: keys, amount: Money.text(payment.gross),
                   detail: "settled in \(payment.currency) for a capture in \(original)")
        }
        if anomalies.contains(.lateSettlement) {
            delay = 4
            record(.lateSettlement, keys: keys, amount: Money.text(payment.gross),
                   detail: "settled 4 days after its due file, beyond the 3-day window")
        }
        queue(payment, delay: delay)
    }

    /// Writes every file that is complete once generation reaches `day`, and rolls balances on.
    func flush(before day: Int) throws {
        while nextStripeFile < day && nextStripeFile <= lastDay + 2 {
            try writeStripeFiles(nextStripeFile)
            nextStripeFile += 1
        }
        for batchDay in adyenLines.keys.sorted() where batchDay < day {
            try writeAdyenBatches(batchDay)
        }
        while nextResellerDay < day && nextResellerDay <= lastDay {
            try writeResellerFiles(nextResellerDay)
            nextResellerDay += 1
        }
        for balanceDay in balanceDeltas.keys.sorted() where balanceDay < day {
            for (merchant, delta) in balanceDeltas.removeValue(forKey: balanceDay) ?? [:] {
                balances[merchant, default: 0] += delta
            }
        }
    }

    // MARK: - Stripe

    func writeStripeFiles(_ fileDay: Int) throws {
        // Sorted where they lie (a sorted copy of a day's lines was the generator's peak).
        var lines = stripeLines.removeValue(forKey: fileDay) ?? []
        lines.sort { $0.eventTime < $1.eventTime }
        let date = CalendarDate(daysSinceEpoch: fileDay).description
        let reportName = "gateway/stripe/payout_reconciliation_\(date).csv"
        let payoutName = "gateway/stripe/payouts_\(date).csv"
        if !lines.isEmpty, plan.due(.missingGatewayFile, dayOffset: fileDay - firstDay), missingFiles % 2 == 0,
            fileDay > firstDay
        {
            plan.consume(.missingGatewayFile)
            missingFiles += 1
            record(.missingGatewayFile, keys: ["gateway": "stripe", "date": date, "file": reportName, "lines": String(lines.count)],
                   amount: Money.text(lines.reduce(0) { $0 + $1.gross }), detail: "Stripe's files for \(date) never arrived")
            return
        }
        let report = try FileOutput(path: path(reportName))
        report.row(["balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net",
                    "reporting_category", "source_id", "charge_id", "automatic_payout_id", "automatic_payout_effective_at_utc"])
        var totals: [String: Int64] = [:]
        let available = TimeText.plain(Int64(fileDay) * 86_400)
        let effective = TimeText.plain(Int64(fileDay) * 86_400 + 12 * 3600)
        for line in lines {
            let currency = line.currency.lowercased()
            let payoutID = "po_\(TimeText.compact(fileDay))_\(currency)"
            totals[payoutID, default: 0] += line.gross - line.fee
            let charge = line.chargeRef.string
            report.row([line.lineID.string, TimeText.plain(line.eventTime), available, currency, Money.text(line.gross),
                        Money.text(line.fee), Money.text(line.gross - line.fee), line.isRefund ? "refund" : "charge",
                        line.isRefund ? line.refundRef.string : charge, charge, payoutID, effective])
        }
        try finish(report, kind: "gateway/stripe lines")
        let payoutsFile = try FileOutput(path: path(payoutName))
        payoutsFile.row(["payout_id", "effective_at_utc", "currency", "amount"])
        for (payoutID, total) in totals.sorted(by: { $0.key < $1.key }) {
            var amount = total
            if plan.due(.payoutMismatch, dayOffset: fileDay - firstDay) {
                plan.consume(.payoutMismatch)
                amount += 100
                record(.payoutMismatch, keys: ["gateway": "stripe", "payout_id": payoutID, "file": payoutName],
                       amount: Money.text(100), detail: "payout \(Money.text(amount)) where its lines net \(Money.text(total))")
            }
            payoutsFile.row([payoutID, effective, String(payoutID.suffix(3)), Money.text(amount)])
        }
        try finish(payoutsFile, kind: "gateway/stripe payouts")
    }

    // MARK: - Adyen

    func writeAdyenBatches(_ batchDay: Int) throws {
        var lines = adyenLines.removeValue(forKey: batchDay) ?? []
        lines.sort { $0.eventTime < $1.eventTime }
        // A batch holds one currency; a line settled in the wrong currency still travels in its
        // merchant account's batch, which is how the mismatch is seen. One account's lines are
        // copied out at a time.
        for account in Set(lines.map(\.currencyOfAccount)).sorted() {
            let batchLines = lines.filter { $0.currencyOfAccount == account }
            let batch = nextAdyenBatch
            nextAdyenBatch += 1
            let name = "gateway/adyen/settlement_detail_report_batch_\(batch).csv"
            if plan.due(.missingGatewayFile, dayOffset: batchDay - firstDay), missingFiles % 2 == 1 {
                plan.consume(.missingGatewayFile)
                missingFiles += 1
                record(.missingGatewayFile, keys: ["gateway": "adyen", "batch": String(batch), "file": name,
                                                   "lines": String(batchLines.count)],
                       amount: Money.text(batchLines.reduce(0) { $0 + $1.gross }), detail: "Adyen batch \(batch) never arrived")
                continue
            }
            let file = try FileOutput(path: path(name))
            file.row(["Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
                      "Creation Date", "TimeZone", "Type", "Modification Reference", "Gross Currency", "Gross Debit (GC)",
                      "Gross Credit (GC)", "Exchange Rate", "Net Currency", "Net Debit (NC)", "Net Credit (NC)",
                      "Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)", "Batch Number"])
            var net: Int64 = 0
            for line in batchLines {
                let fees = (0..<4).map { Money.text(line.fees[$0]) }
                let amount = Money.text(abs(line.gross))
                let lineNet = line.gross - line.fee
                net += lineNet
                file.row(["FundReconPlatform", "FundRecon" + account, line.chargeRef.string,
                          line.paymentID == 0 ? "" : String(line.paymentID), line.method,
                          adyenZone.localText(line.eventTime), "Europe/Amsterdam", line.isRefund ? "Refunded" : "Settled",
                          line.isRefund ? line.refundRef.string : "", line.currency, line.isRefund ? amount : "",
                          line.isRefund ? "" : amount, "1", line.currency, lineNet < 0 ? Money.text(-lineNet) : "",
                          lineNet >= 0 ? Money.text(lineNet) : "", fees[0], fees[1], fees[2], fees[3], String(batch)])
            }
            var payout = net
            if plan.due(.payoutMismatch, dayOffset: batchDay - firstDay) {
                plan.consume(.payoutMismatch)
                payout += 100
                record(.payoutMismatch, keys: ["gateway": "adyen", "batch": String(batch), "file": name],
                       amount: Money.text(100), detail: "payout \(Money.text(payout)) where the batch nets \(Money.text(net))")
            }
            let payoutTime = adyenZone.instant(day: batchDay, secondOfDay: 6 * 3600)
            file.row(["FundReconPlatform", "FundRecon" + account, "", "payout-batch-\(batch)", "",
                      adyenZone.localText(payoutTime), "Europe/Amsterdam", "MerchantPayout", "", account, "", "", "1",
                      account, Money.text(payout), "", "", "", "", "", String(batch)])
            try finish(file, kind: "gateway/adyen lines")
        }
    }

    // MARK: - Resellers

    func writeResellerFiles(_ bizDay: Int) throws {
        let date = CalendarDate(daysSinceEpoch: bizDay).description
        let sales = resellerSales.removeValue(forKey: bizDay) ?? [:]
        let offset = bizDay - firstDay
        var touched: Set<Int> = []
        func pick(_ anomaly: AnomalyClass, needsSales: Bool) -> Int? {
            guard plan.due(anomaly, dayOffset: offset) else { return nil }
            let choice = resellers.indices.first { !touched.contains($0) && (!needsSales || !(sales[$0] ?? []).isEmpty) }
            if let choice {
                plan.consume(anomaly)
                touched.insert(choice)
            }
            return choice
        }
        let controlTotal = pick(.resellerControlTotalMismatch, needsSales: true)
        let duplicate = pick(.resellerDuplicateLine, needsSales: true)
        let truncated = pick(.resellerTruncatedFile, needsSales: true)
        let unmatched = pick(.resellerUnmatchedSale, needsSales: false)

        for (index, reseller) in resellers.enumerated() {
            var lines = (sales[index] ?? []).sorted { $0.soldAt < $1.soldAt }
            let fileID = "\(reseller.id)-\(TimeText.compact(bizDay))"
            let name = "resellers/\(date)/\(reseller.id).\(reseller.format)"
            let currency = merchants[reseller.merchantID - 1].currency
            if index == unmatched {
                let ghost = ResellerSale(
                    txnID: "\(reseller.id)-9\(String(format: "%05d", offset))", orderRef: String(90_000_000 + offset),
                    soldAt: zone.instant(day: bizDay, secondOfDay: 12 * 3600), currency: currency,
                    amount: Int64(1000 + random.below(5000)))
                lines.append(ghost)
                record(.resellerUnmatchedSale, keys: ["file": name, "file_id": fileID, "txn_id": ghost.txnID,
                                                      "order_ref": ghost.orderRef],
                       amount: Money.text(ghost.amount), detail: "a sale for order \(ghost.orderRef), which does not exist")
            }
            let declaredCount = lines.count
            var declaredTotal = lines.reduce(0) { $0 + $1.amount }
            if index == duplicate, let first = lines.first {
                lines.insert(first, at: 1)
                record(.resellerDuplicateLine, keys: ["file": name, "file_id": fileID, "txn_id": first.txnID,
                                                      "order_ref": first.orderRef],
                       amount: Money.text(first.amount), detail: "sale \(first.txnID) appears twice in the file")
            }
            if index == controlTotal {
                declaredTotal += 100
                record(.resellerControlTotalMismatch, keys: ["file": name, "file_id": fileID],
                       amount: Money.text(100), detail: "the trailer's total is 1.00 more than the sale lines")
            }
            let hasTrailer = index != truncated
            if !hasTrailer {
                record(.resellerTruncatedFile, keys: ["file": name, "file_id": fileID], amount: nil,
                       detail: "the file ends without its trailer")
            }
            if reseller.format == "xml" {
                let file = try FileOutput(path: path(name))
                file.text("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                file.text("<resellerReport resellerId=\"\(reseller.id)\" reportDate=\"\(date)\" currency=\"\(currency)\" fileId=\"\(fileID)\">\n")
                for sale in lines {
                    file.text("  <sale txnId=\"\(sale.txnID)\" orderRef=\"\(sale.orderRef)\" soldAt=\"\(TimeText.iso(sale.soldAt))\" amount=\"\(Money.text(sale.amount))\"/>\n")
                }
                if hasTrailer {
                    file.text("  <trailer recordCount=\"\(declaredCount)\" totalAmount=\"\(Money.text(declaredTotal))\"/>\n")
                    file.text("</resellerReport>\n")
                }
                try finish(file, kind: "resellers/xml sales", rows: lines.count)
            } else {
                let file = try FileOutput(path: path(name))
                file.row(["record_type", "reseller_id", "report_date", "txn_id", "order_ref", "sold_at", "currency",
                          "amount", "record_count", "total_amount"])
                file.row(["H", reseller.id, date, "", "", "", currency, "", "", ""])
                for sale in lines {
                    file.row(["D", reseller.id, date, sale.txnID, sale.orderRef, TimeText.iso(sale.soldAt), sale.currency,
                              Money.text(sale.amount), "", ""])
                }
                if hasTrailer {
                    file.row(["T", reseller.id, date, "", "", "", currency, "", String(declaredCount), Money.text(declaredTotal)])
                }
                try finish(file, kind: "resellers/csv sales", rows: lines.count)
            }
        }
    }

    func finish(_ output: FileOutput, kind: String, rows: Int? = nil) throws {
        try output.close()
        report.rows[kind, default: 0] += rows ?? max(0, output.lines - 1)
        report.files += 1
    }
}

extension SettlementLine {
    /// The currency of the merchant account the line travels in (its true currency even when the
    /// line itself was written in another).
    var currencyOfAccount: String { accountCurrency ?? currency }
}

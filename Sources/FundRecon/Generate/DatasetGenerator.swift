import Foundation
import Logging
import Postgres

/// Writes a synthetic dataset in the contract's layout (DATA_CONTRACT.md section 1), with injected
/// anomalies listed in `manifest.json`.
///
/// Generation streams day by day: orders and their payments, redemptions and commissions are
/// written at once; only what belongs to a later file (refunds' and captures' settlement lines,
/// reseller sales of the day, balances for weekly payouts) is held until that file is due.
public enum DatasetGenerator {
    /// Generates into `directory` (created if needed; existing dataset files are overwritten).
    public static func generate(_ spec: GeneratorSpec, to directory: String, logger: Logger) throws -> GenerationReport {
        try spec.validate()
        let run = try GeneratorRun(spec: spec, directory: directory, logger: logger)
        return try run.generate()
    }
}

enum Gateway: String {
    case stripe, adyen
}

struct Merchant {
    let id: Int
    let name: String
    let category: String
    let rateE4: Int64
    let currency: String
    let priceLow: Int
    let priceHigh: Int
}

struct Reseller {
    let id: String
    let merchantID: Int
    let format: String
    var nextSale = 1
}

struct Voucher {
    let code: String
    let fundedBy: String
    let type: String
    let value: Int64

    func discount(on gross: Int64) -> Int64 {
        let raw = type == "fixed" ? value : Money.scaled(gross, by: value, scale: 100)
        return min(raw, gross - 100)
    }
}

/// One line of a gateway settlement file. Held inline (no allocation of its own): lines wait in
/// memory until their file's day, so their size is the generator's peak.
struct SettlementLine {
    var gateway: Gateway
    var isRefund: Bool
    var chargeRef: InlineText
    var refundRef: InlineText
    var paymentID: Int64
    var currency: String
    var gross: Int64
    /// Stripe's one fee, or Adyen's commission, markup, scheme fees and interchange.
    var fees: SIMD4<Int64>
    var eventTime: Int64
    var lineID: InlineText
    var method: String
    /// The merchant account's currency when the line was written in another one.
    var accountCurrency: String?

    /// The whole fee: the sum of its parts.
    var fee: Int64 { fees.wrappedSum() }
}

struct ResellerSale {
    var txnID: String
    var orderRef: String
    var soldAt: Int64
    var currency: String
    var amount: Int64
}

final class GeneratorRun {
    let spec: GeneratorSpec
    let directory: String
    let logger: Logger
    let zone: ZoneOffsets
    let adyenZone: ZoneOffsets
    var random: SeededRandom
    var anomalyRandom: SeededRandom
    var merchants: [Merchant] = []
    var merchantWeights: [Int] = []
    var resellers: [Reseller] = []
    var resellersByMerchant: [Int: [Int]] = [:]
    var vouchers: [Voucher] = []
    let firstDay: Int
    let lastDay: Int
    let endInstant: Int64
    var report = GenerationReport()
    /// The latest plain capture, refunded at the end when no refund fell inside a short dataset.
    var lastCapture: (payment: SettlementLine, order: Int64, merchant: Merchant, amount: Int64, at: Int64)?

    let orders: FileOutput
    let payments: FileOutput
    let refunds: FileOutput
    let redemptions: FileOutput
    let commissions: FileOutput
    let payouts: FileOutput

    var nextOrderID: Int64 = 100_001
    var nextPaymentID: Int64 = 500_001
    var nextRefundID: Int64 = 700_001
    var nextRedemptionID: Int64 = 1
    var nextCommissionID: Int64 = 1
    var nextPayoutID: Int64 = 1
    var nextAdyenBatch = 1
    var nextPSP: Int64 = 8_800_000_000_000_000
    var nextStripeFile: Int
    var nextResellerDay: Int
    var missingFiles = 0

    var stripeLines: [Int: [SettlementLine]] = [:]
    var adyenLines: [Int: [SettlementLine]] = [:]
    var resellerSales: [Int: [Int: [ResellerSale]]] = [:]
    var balanceDeltas: [Int: [Int: Int64]] = [:]
    var balances: [Int: Int64] = [:]
    var plan: AnomalyPlan

    static let diurnal = cumulativeWeights([2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 10, 11, 10, 9, 9, 10, 12, 15, 18, 20, 17, 10, 5])
    static let categories = ["electronics", "fashion", "home", "grocery", "books", "sports", "beauty", "toys"]

    init(spec: GeneratorSpec, directory: String, logger: Logger) throws {
        self.spec = spec
        self.directory = directory
        self.logger = logger
        zone = try ZoneOffsets(spec.businessTimeZone)
        adyenZone = try ZoneOffsets("Europe/Amsterdam")
        random = SeededRandom(seed: spec.seed, stream: 1)
        anomalyRandom = SeededRandom(seed: spec.seed, stream: 2)
        let firstDay = spec.start.daysSinceEpoch
        self.firstDay = firstDay
        lastDay = firstDay + spec.days - 1
        nextStripeFile = firstDay
        nextResellerDay = firstDay
        endInstant = zone.instant(day: lastDay + 1, secondOfDay: 0)
        var planRandom = SeededRandom(seed: spec.seed, stream: 3)
        let expectedOrders = (0..<spec.days).reduce(0) { $0 + GeneratorRun.orderCount(day: firstDay + $1, spec: spec) }
        plan = AnomalyPlan(
            counts: spec.anomalies.resolved(orders: expectedOrders), orders: expectedOrders, days: spec.days,
            random: &planRandom)
        orders = try FileOutput(path: directory + "/oltp/orders.csv")
        orders.row(["order_id", "merchant_id", "customer_id", "channel", "reseller_id", "currency", "gross_amount",
                    "voucher_code", "voucher_discount", "status", "created_at"])
        payments = try FileOutput(path: directory + "/oltp/payments.csv")
        payments.row(["payment_id", "order_id", "gateway", "gateway_txn_ref", "currency", "amount", "status", "captured_at"])
        refunds = try FileOutput(path: directory + "/oltp/refunds.csv")
        refunds.row(["refund_id", "order_id", "payment_id", "gateway_refund_ref", "currency", "amount", "reason", "refunded_at"])
        redemptions = try FileOutput(path: directory + "/oltp/voucher_redemptions.csv")
        redemptions.row(["redemption_id", "voucher_code", "order_id", "amount", "redeemed_at"])
        commissions = try FileOutput(path: directory + "/oltp/commissions.csv")
        commissions.row(["commission_id", "order_id", "merchant_id", "refund_id", "base_amount", "rate", "amount",
                         "currency", "charged_at"])
        payouts = try FileOutput(path: directory + "/oltp/merchant_payouts.csv")
        payouts.row(["payout_id", "merchant_id", "currency", "amount", "paid_at"])
    }

    /// Weekends are busier (x1.25), weekdays quieter (x0.9): the week averages `ordersPerDay`.
    static func orderCount(day: Int, spec: GeneratorSpec) -> Int {
        let weekend = CalendarDate(daysSinceEpoch: day).weekdayIndex >= 5
        return max(1, spec.ordersPerDay * (weekend ? 125 : 90) / 100)
    }

    func path(_ relative: String) -> String { directory + "/" + relative }

    func generate() throws -> GenerationReport {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try writeMasterData()

        var orderIndex = 0
        for offset in 0..<spec.days {
            let day = firstDay + offset
            try flush(before: day)
            // Every extract has rows however short the dataset (a short one's audit must pass): a
            // dataset without a Monday pays out on its last day, and its last day's orders take a
            // voucher until one is redeemed. A month's data is the same with or without this.
            let finalDay = offset == spec.days - 1
            if offset > 0 && (CalendarDate(daysSinceEpoch: day).weekdayIndex == 0 || (finalDay && payouts.lines == 1)) {
                payMerchants(on: day)
            }
            let count = GeneratorRun.orderCount(day: day, spec: spec)
            var times: [Int64] = []
            times.reserveCapacity(count)
            for _ in 0..<count {
                let hour = random.weighted(GeneratorRun.diurnal)
                times.append(zone.instant(day: day, secondOfDay: hour * 3600 + random.below(3600)))
            }
            times.sort()
            for time in times {
                makeOrder(at: time, index: orderIndex, needsVoucher: finalDay && redemptions.lines == 1)
                orderIndex += 1
            }
            if offset % 7 == 6 { logger.info("generated \(offset + 1) of \(spec.days) days, \(orderIndex) orders") }
        }
        if refunds.lines == 1, let last = lastCapture {
            // Refunds come 1 to 20 days after the capture: in a short dataset none may fall inside it.
            refund(last.payment, order: last.order, merchant: last.merchant, amount: max(1, last.amount / 2),
                   at: min(last.at + 3600, endInstant - 1))
        }
        if payouts.lines == 1 {
            // One day: nothing was owed before it, so the day's own balance is paid at its end.
            try flush(before: lastDay + 1)
            payMerchants(on: lastDay, secondOfDay: 86_400 - 30)
        }
        try flush(before: lastDay + 4)
        for output in [orders, payments, refunds, redemptions, commissions, payouts] {
            try output.close()
            report.rows[relative(output.path)] = output.lines - 1
            report.files += 1
        }
        report.orders = orderIndex
        report.unplaced = plan.unplaced()
        try writeManifest()
        return report
    }

    func relative(_ full: String) -> String { String(full.dropFirst(directory.count + 1)) }

    // MARK: - Master data

    func writeMasterData() throws {
        let merchantsFile = try FileOutput(path: path("oltp/merchants.csv"))
        merchantsFile.row(["merchant_id", "merchant_name", "category", "commission_rate", "currency", "onboarded_at"])
        let rates: [Int64] = [500, 800, 1000, 1200, 1500]
        for id in 1...spec.merchants {
            let category = GeneratorRun.categories[random.below(GeneratorRun.categories.count)]
            let currency = random.chance(perMille: 650) ? "USD" : "EUR"
            let low = [300, 800, 1500, 2500][random.below(4)]
            let merchant = Merchant(
                id: id, name: "Merchant \(String(format: "%03d", id)) \(category.capitalized)", category: category,
                rateE4: rates[random.below(rates.count)], currency: currency, priceLow: low, priceHigh: low * (4 + random.below(12)))
            merchants.append(merchant)
            // A long tail: the k-th merchant weighs about 1/k of the first.
            merchantWeights.append(1_000_000 / id)
            let onboarded = zone.instant(day: firstDay - 30 - random.below(700), secondOfDay: 9 * 3600)
            merchantsFile.row([String(id), merchant.name, category, Money.rateText(merchant.rateE4), currency, TimeText.iso(onboarded)])
        }
        merchantWeights = cumulativeWeights(merchantWeights)
        try finish(merchantsFile)

        let resellersFile = try FileOutput(path: path("oltp/resellers.csv"))
        resellersFile.row(["reseller_id", "reseller_name", "merchant_id", "file_format"])
        for index in 0..<spec.resellers {
            let id = "RS" + String(format: "%03d", index + 1)
            let merchantID = (index % spec.merchants) + 1
            let format = index % 2 == 0 ? "xml" : "csv"
            resellers.append(Reseller(id: id, merchantID: merchantID, format: format))
            resellersByMerchant[merchantID, default: []].append(index)
            resellersFile.row([id, "Reseller \(index + 1) Shop", String(merchantID), format])
        }
        try finish(resellersFile)

        let vouchersFile = try FileOutput(path: path("oltp/vouchers.csv"))
        vouchersFile.row(["voucher_code", "funded_by", "discount_type", "discount_value", "valid_from", "valid_to"])
        vouchers = [
            Voucher(code: "PLAT5", fundedBy: "platform", type: "fixed", value: 500),
            Voucher(code: "PLAT10P", fundedBy: "platform", type: "percent", value: 10),
            Voucher(code: "MERCH3", fundedBy: "merchant", type: "fixed", value: 300),
            Voucher(code: "MERCH15P", fundedBy: "merchant", type: "percent", value: 15),
            Voucher(code: "WELCOME2", fundedBy: "platform", type: "fixed", value: 200),
        ]
        let validFrom = zone.instant(day: firstDay - 60, secondOfDay: 0)
        let validTo = zone.instant(day: lastDay + 60, secondOfDay: 0)
        for voucher in vouchers {
            let value = voucher.type == "fixed" ? Money.text(voucher.value) : "\(voucher.value).00"
            vouchersFile.row([voucher.code, voucher.fundedBy, voucher.type, value, TimeText.iso(validFrom), TimeText.iso(validTo)])
        }
        try finish(vouchersFile)
    }

    func finish(_ output: FileOutput) throws {
        try output.close()
        report.rows[relative(output.path)] = output.lines - 1
        report.files += 1
    }

    // MARK: - Orders and what follows them

    func makeOrder(at created: Int64, index: Int, needsVoucher: Bool = false) {
        let merchant = merchants[random.weighted(merchantWeights) ]
        let orderID = nextOrderID
        nextOrderID += 1
        var channel = random.chance(perMille: 600) ? "web" : "app"
        var resellerIndex: Int?
        if let candidates = resellersByMerchant[merchant.id], random.chance(perMille: 150) {
            channel = "reseller"
            resellerIndex = candidates[random.below(candidates.count)]
        }
        var gross = Int64(random.within(merchant.priceLow...merchant.priceHigh))
        if random.chance(perMille: 40) { gross *= Int64(2 + random.below(6)) }
        let cancelled = random.chance(perMille: 20)
        var voucher: Voucher?
        if channel != "reseller" && !cancelled && random.chance(perMille: 120) {
            voucher = vouchers[random.below(vouchers.count)]
        }
        if needsVoucher && voucher == nil && channel != "reseller" && !cancelled { voucher = vouchers[0] }
        let discount = voucher?.discount(on: gross) ?? 0
        let customerPaid = gross - discount
        let customerID = Int64(1_000_000 + random.below(200_000))
        let anomalies = plan.take(index: index, eligible: { anomaly in
            switch anomaly {
            case .voucherMismatch: return voucher != nil
            case .duplicateCapture, .duplicateSourceRow, .missingSettlement, .orphanSettlement,
                .settlementAmountMismatch, .feeMismatch, .commissionMismatch, .currencyMismatch, .timezoneShift,
                .malformedRecord:
                return !cancelled
            case .refundExceedsCapture, .lateSettlement:
                return !cancelled && created + Int64(AnomalyPlan.daysNeeded) * 86_400 < endInstant
            default: return false
            }
        })
        let orderRow = [String(orderID), String(merchant.id), String(customerID), channel,
                        resellerIndex.map { resellers[$0].id } ?? "", merchant.currency, Money.text(gross),
                        voucher?.code ?? "", Money.text(discount), cancelled ? "cancelled" : "paid", TimeText.iso(created)]
        orders.row(orderRow)
        if anomalies.contains(.malformedRecord) {
            var broken = orderRow
            broken[6] = Money.text(gross) + "x"
            orders.row(broken)
            record(.malformedRecord, keys: ["file": "oltp/orders.csv", "line": String(orders.lines), "order_id": String(orderID)],
                   amount: nil, detail: "a copy of order \(orderID)'s row with gross_amount '\(broken[6])' (not a number)")
        }
        guard !cancelled else { return }
        let bizDay = zone.localDay(created)
        addBalance(day: bizDay, merchant: merchant.id, gross - (voucher?.fundedBy == "merchant" ? discount : 0))

        if random.chance(perMille: 30) {
            // A declined attempt before the capture: never settled, never counted.
            payments.row([String(nextPaymentID), String(orderID), "stripe", "ch_" + random.hex(24), merchant.currency,
                          Money.text(customerPaid), "failed", TimeText.iso(created + 2)])
            nextPaymentID += 1
        }
        let gateway: Gateway = random.chance(perMille: 600) ? .stripe : .adyen
        let captured = created + Int64(random.within(5...600))
        let shift: Int64 = anomalies.contains(.timezoneShift) ? 8 * 3600 : 0
        var payment = capture(
            order: orderID, merchant: merchant, gateway: gateway, amount: customerPaid, at: captured, writtenShift: shift,
            writeTwice: anomalies.contains(.duplicateSourceRow))
        if shift != 0 {
            record(.timezoneShift, keys: ["order_id": String(orderID), "payment_id": String(payment.paymentID),
                                          "gateway_txn_ref": payment.chargeRef.string, "shift_hours": "8"],
                   amount: nil, detail: "captured_at written 8 hours late (local time labelled UTC); the gateway has the true time")
        }
        if anomalies.contains(.duplicateSourceRow) {
            record(.duplicateSourceRow, keys: ["file": "oltp/payments.csv", "line": String(payments.lines),
                                               "payment_id": String(payment.paymentID)],
                   amount: Money.text(customerPaid), detail: "payment \(payment.paymentID)'s row appears twice in the extract")
        }

        if let voucher {
            var amount = discount
            if anomalies.contains(.voucherMismatch) {
                amount += 100
                record(.voucherMismatch, keys: ["order_id": String(orderID), "voucher_code": voucher.code,
                                                "redemption_id": String(nextRedemptionID)],
                       amount: Money.text(100), detail: "redemption of \(Money.text(amount)) against a voucher_discount of \(Money.text(discount))")
            }
            redemptions.row([String(nextRedemptionID), voucher.code, String(orderID), Money.text(amount), TimeText.iso(created)])
            nextRedemptionID += 1
        }

        var commission = Money.scaled(gross - (voucher?.fundedBy == "merchant" ? discount : 0), by: merchant.rateE4, scale: 10_000)
        let expectedCommission = commission
        if anomalies.contains(.commissionMismatch) {
            commission += 10
            record(.commissionMismatch, keys: ["order_id": String(orderID), "commission_id": String(nextCommissionID)],
                   amount: Money.text(10), detail: "commission \(Money.text(commission)) instead of \(Money.text(expectedCommission))")
        }
        commissions.row([String(nextCommissionID), String(orderID), String(merchant.id), "",
                         Money.text(gross - (voucher?.fundedBy == "merchant" ? discount : 0)), Money.rateText(merchant.rateE4),
                         Money.text(commission), merchant.currency, TimeText.iso(captured)])
        nextCommissionID += 1
        addBalance(day: zone.localDay(captured), merchant: merchant.id, -commission)

        applySettlementAnomalies(anomalies, payment: &payment, orderID: orderID, merchant: merchant)
        if anomalies.contains(.duplicateCapture) {
            let second = capture(order: orderID, merchant: merchant, gateway: gateway, amount: customerPaid, at: captured + 45)
            queue(second)
            record(.duplicateCapture, keys: ["order_id": String(orderID), "payment_id": String(second.paymentID),
                                             "first_payment_id": String(payment.paymentID), "gateway_txn_ref": second.chargeRef.string],
                   amount: Money.text(customerPaid), detail: "a second captured payment for order \(orderID)")
        }
        if let resellerIndex {
            let reseller = resellers[resellerIndex]
            let sale = ResellerSale(
                txnID: reseller.id + "-" + String(format: "%06d", reseller.nextSale), orderRef: String(orderID),
                soldAt: created, currency: merchant.currency, amount: gross)
            resellers[resellerIndex].nextSale += 1
            resellerSales[bizDay, default: [:]][resellerIndex, default: []].append(sale)
        }
        if anomalies.contains(.refundExceedsCapture) {
            let extra = Int64(100 + random.below(400))
            refund(payment, order: orderID, merchant: merchant, amount: customerPaid + extra, at: captured + Int64(86_400 * (1 + random.below(3))))
            record(.refundExceedsCapture, keys: ["order_id": String(orderID), "payment_id": String(payment.paymentID),
                                                 "refund_id": String(nextRefundID - 1)],
                   amount: Money.text(extra), detail: "a refund of \(Money.text(customerPaid + extra)) against a capture of \(Money.text(customerPaid))")
        } else if random.chance(perMille: 60) {
            let refundedAt = captured + Int64(86_400 * random.within(1...20) + random.below(86_400))
            let amount = random.chance(perMille: 700) ? customerPaid : max(1, customerPaid * Int64(random.within(10...90)) / 100)
            if refundedAt < endInstant { refund(payment, order: orderID, merchant: merchant, amount: amount, at: refundedAt) }
        } else if anomalies.isEmpty && captured < endInstant - 60 {
            lastCapture = (payment, orderID, merchant, customerPaid, captured)
        }
    }

    /// Writes a captured payment and queues its settlement line.
    /// Writes a captured payment; its settlement line is returned for the caller to queue.
    /// `writtenShift` moves only the extract's timestamp (a timezone slip at the source).
    func capture(
        order: Int64, merchant: Merchant, gateway: Gateway, amount: Int64, at captured: Int64,
        writtenShift: Int64 = 0, writeTwice: Bool = false
    ) -> SettlementLine {
        let paymentID = nextPaymentID
        nextPaymentID += 1
        let ref = gateway == .stripe ? "ch_" + random.hex(24) : nextPSPReference()
        let line = settlementLine(gateway: gateway, isRefund: false, chargeRef: ref, refundRef: "", paymentID: paymentID,
                                  currency: merchant.currency, gross: amount, at: captured)
        let row = [String(paymentID), String(order), gateway.rawValue, ref, merchant.currency, Money.text(amount),
                   "captured", TimeText.iso(captured + writtenShift)]
        payments.row(row)
        if writeTwice { payments.row(row) }
        return line
    }

    func refund(_ payment: SettlementLine, order orderID: Int64, merchant: Merchant, amount: Int64, at refundedAt: Int64) {
        let refundID = nextRefundID
        nextRefundID += 1
        let ref = payment.gateway == .stripe ? "re_" + random.hex(24) : nextPSPReference()
        let reasons = ["customer_request", "damaged", "not_received", "duplicate_order"]
        refunds.row([String(refundID), String(orderID), String(payment.paymentID), ref, merchant.currency,
                     Money.text(amount), reasons[random.below(reasons.count)], TimeText.iso(refundedAt)])
        let reversal = -Money.scaled(amount, by: merchant.rateE4, scale: 10_000)
        commissions.row([String(nextCommissionID), String(orderID), String(merchant.id), String(refundID),
                         Money.text(amount), Money.rateText(merchant.rateE4), Money.text(reversal), merchant.currency,
                         TimeText.iso(refundedAt)])
        nextCommissionID += 1
        addBalance(day: zone.localDay(refundedAt), merchant: merchant.id, -amount - reversal)
        queue(settlementLine(gateway: payment.gateway, isRefund: true, chargeRef: payment.chargeRef.string, refundRef: ref,
                             paymentID: payment.paymentID, currency: merchant.currency, gross: -amount, at: refundedAt))
    }

    func nextPSPReference() -> String {
        nextPSP += Int64(1 + random.below(97))
        return String(nextPSP)
    }

    func settlementLine(
        gateway: Gateway, isRefund: Bool, chargeRef: String, refundRef: String, paymentID: Int64, currency: String,
        gross: Int64, at time: Int64
    ) -> SettlementLine {
        let fees = gateway == .stripe ? SIMD4(FeeSchedule.stripe(gross), 0, 0, 0) : FeeSchedule.adyen(gross)
        return SettlementLine(
            gateway: gateway, isRefund: isRefund, chargeRef: InlineText(chargeRef), refundRef: InlineText(refundRef),
            paymentID: paymentID, currency: currency, gross: gross, fees: fees, eventTime: time,
            lineID: InlineText("txn_" + random.hex(24)), method: random.chance(perMille: 550) ? "visa" : "mc",
            accountCurrency: nil)
    }

    /// Stripe settles a day's activity in the next day's file (T+1), Adyen in the batch two days on (T+2).
    func queue(_ line: SettlementLine, delay: Int = 0) {
        let utcDay = Int(line.eventTime / 86_400)
        switch line.gateway {
        case .stripe: stripeLines[utcDay + 1 + delay, default: []].append(line)
        case .adyen: adyenLines[utcDay + 2 + delay, default: []].append(line)
        }
    }

    func addBalance(day: Int, merchant: Int, _ delta: Int64) {
        balanceDeltas[day, default: [:]][merchant, default: 0] += delta
    }

    /// Weekly payouts on Mondays: each merchant is paid its positive balance as of the day before.
    func payMerchants(on day: Int, secondOfDay: Int = 9 * 3600) {
        let paidAt = zone.instant(day: day, secondOfDay: secondOfDay)
        for merchant in merchants {
            let balance = balances[merchant.id] ?? 0
            guard balance > 0 else { continue }
            payouts.row([String(nextPayoutID), String(merchant.id), merchant.currency, Money.text(balance), TimeText.iso(paidAt)])
            nextPayoutID += 1
            addBalance(day: zone.localDay(paidAt), merchant: merchant.id, -balance)
        }
    }

    func record(_ anomaly: AnomalyClass, keys: [String: String], amount: String?, detail: String) {
        report.anomalies.append(InjectedAnomaly(anomalyClass: anomaly.rawValue, rule: anomaly.rule, keys: keys, amount: amount, detail: detail))
    }

    func writeManifest() throws {
        struct Manifest: Encodable {
            var generator: [String: String]
            var rows: [String: Int]
            var anomalies: [InjectedAnomaly]
            var unplaced: [String: Int]
        }
        let manifest = Manifest(
            generator: [
                "seed": String(spec.seed), "start": spec.start.description, "days": String(spec.days),
                "orders_per_day": String(spec.ordersPerDay), "merchants": String(spec.merchants),
                "resellers": String(spec.resellers), "anomalies": spec.anomalies.description,
                "business_timezone": spec.businessTimeZone, "orders": String(report.orders),
            ],
            rows: report.rows, anomalies: report.anomalies,
            unplaced: Dictionary(uniqueKeysWithValues: report.unplaced.map { ($0.key.rawValue, $0.value) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: path("manifest.json")))
        report.files += 1
    }
}

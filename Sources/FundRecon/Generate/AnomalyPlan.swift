/// Where the requested anomalies go: order-level classes at chosen order positions, file-level
/// classes at chosen days. A target whose order or file does not qualify (an anomaly on a voucher
/// needs an order with a voucher) moves to the next one that does, so placement is deterministic.
struct AnomalyPlan {
    static let fileLevel: Set<AnomalyClass> = [
        .payoutMismatch, .missingGatewayFile, .resellerControlTotalMismatch, .resellerUnmatchedSale,
        .resellerDuplicateLine, .resellerTruncatedFile,
    ]

    /// Days an order needs after it for a late settlement or an excess refund to land in the range.
    static let daysNeeded = 6

    private var orderTargets: [Int: [AnomalyClass]] = [:]
    private var pending: [AnomalyClass: Int] = [:]
    private var dayTargets: [AnomalyClass: [Int]] = [:]

    init(counts: [AnomalyClass: Int], orders: Int, days: Int, random: inout SeededRandom) {
        for anomaly in AnomalyClass.allCases {
            let count = counts[anomaly] ?? 0
            guard count > 0 else { continue }
            if AnomalyPlan.fileLevel.contains(anomaly) {
                let lowest = days > 1 ? 1 : 0
                dayTargets[anomaly] = (0..<count).map { _ in random.within(lowest...max(lowest, days - 1)) }.sorted()
            } else {
                // Anomalies that need days after the order (a late file, an excess refund) aim at orders
                // old enough to have them inside the range; the others anywhere in the first 90%.
                let needsTime: Set<AnomalyClass> = [.lateSettlement, .refundExceedsCapture]
                let span = needsTime.contains(anomaly)
                    ? max(1, orders * max(1, days - AnomalyPlan.daysNeeded) / days) : max(1, orders * 9 / 10)
                for _ in 0..<count { orderTargets[random.below(span), default: []].append(anomaly) }
            }
        }
    }

    /// The anomaly to apply to the order at `index`: at most one per order, the first pending
    /// class (in contract order) that the order qualifies for.
    mutating func take(index: Int, eligible: (AnomalyClass) -> Bool) -> Set<AnomalyClass> {
        for anomaly in orderTargets.removeValue(forKey: index) ?? [] { pending[anomaly, default: 0] += 1 }
        for anomaly in AnomalyClass.allCases where (pending[anomaly] ?? 0) > 0 && eligible(anomaly) {
            pending[anomaly, default: 0] -= 1
            return [anomaly]
        }
        return []
    }

    /// True when a file-level anomaly is due at or before this day (offset from the first day).
    func due(_ anomaly: AnomalyClass, dayOffset: Int) -> Bool {
        guard let first = dayTargets[anomaly]?.first else { return false }
        return first <= dayOffset
    }

    /// Marks one due file-level anomaly as placed.
    mutating func consume(_ anomaly: AnomalyClass) {
        if dayTargets[anomaly]?.isEmpty == false { dayTargets[anomaly]?.removeFirst() }
    }

    /// What could not be placed (the dataset had no qualifying order or file left).
    func unplaced() -> [AnomalyClass: Int] {
        var result = pending.filter { $0.value > 0 }
        for targets in orderTargets.values {
            for anomaly in targets { result[anomaly, default: 0] += 1 }
        }
        for (anomaly, days) in dayTargets where !days.isEmpty { result[anomaly, default: 0] += days.count }
        return result
    }
}

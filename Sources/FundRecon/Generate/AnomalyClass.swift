import Foundation

/// The anomaly classes of DATA_CONTRACT.md section 4, with the rule each breaks.
public enum AnomalyClass: String, Sendable, CaseIterable, Codable, Comparable {
    case duplicateCapture = "duplicate_capture"
    case duplicateSourceRow = "duplicate_source_row"
    case missingSettlement = "missing_settlement"
    case orphanSettlement = "orphan_settlement"
    case settlementAmountMismatch = "settlement_amount_mismatch"
    case feeMismatch = "fee_mismatch"
    case payoutMismatch = "payout_mismatch"
    case refundExceedsCapture = "refund_exceeds_capture"
    case commissionMismatch = "commission_mismatch"
    case voucherMismatch = "voucher_mismatch"
    case lateSettlement = "late_settlement"
    case currencyMismatch = "currency_mismatch"
    case resellerControlTotalMismatch = "reseller_control_total_mismatch"
    case resellerUnmatchedSale = "reseller_unmatched_sale"
    case resellerDuplicateLine = "reseller_duplicate_line"
    case resellerTruncatedFile = "reseller_truncated_file"
    case malformedRecord = "malformed_record"
    case missingGatewayFile = "missing_gateway_file"
    case timezoneShift = "timezone_shift"

    /// The rule of DATA_CONTRACT.md section 3 that an instance breaks first.
    public var rule: String {
        switch self {
        case .duplicateCapture: return "R1"
        case .voucherMismatch: return "R2"
        case .refundExceedsCapture: return "R3"
        case .commissionMismatch: return "R4"
        case .missingSettlement, .orphanSettlement, .settlementAmountMismatch, .lateSettlement, .currencyMismatch,
            .timezoneShift:
            return "R5"
        case .feeMismatch: return "R6"
        case .payoutMismatch: return "R7"
        case .resellerControlTotalMismatch, .resellerUnmatchedSale, .resellerDuplicateLine, .resellerTruncatedFile:
            return "R10"
        case .malformedRecord: return "R11"
        case .duplicateSourceRow: return "R12"
        case .missingGatewayFile: return "R13"
        }
    }

    public static func < (lhs: AnomalyClass, rhs: AnomalyClass) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How many anomalies of each class to inject: `none`, a rate (`0.001`), `all=N`, or a list
/// `duplicate_capture=3,missing_settlement=2`.
public struct AnomalySpec: Sendable, Equatable, CustomStringConvertible {
    /// Instances per class, for list and `all=` forms.
    public var counts: [AnomalyClass: Int]
    /// A share of orders, spread over every class, for the rate form.
    public var rate: (numerator: Int, denominator: Int)?

    /// No anomalies.
    public static let none = AnomalySpec(counts: [:], rate: nil)

    /// Parses the `--anomalies` argument; the error names what is wrong.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        counts = [:]
        rate = nil
        if trimmed.isEmpty || trimmed == "none" { return }
        if let parsed = AnomalySpec.parseRate(trimmed) {
            rate = parsed
            return
        }
        for part in trimmed.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2, let count = Int(pieces[1]), count >= 0 else {
                throw AnomalySpecError(message: "'\(part)' is not CLASS=COUNT")
            }
            if pieces[0] == "all" {
                for anomaly in AnomalyClass.allCases { counts[anomaly] = count }
            } else if let anomaly = AnomalyClass(rawValue: pieces[0]) {
                counts[anomaly] = count
            } else {
                let known = AnomalyClass.allCases.map(\.rawValue).joined(separator: ", ")
                throw AnomalySpecError(message: "unknown anomaly class '\(pieces[0])'; known: all, \(known)")
            }
        }
    }

    init(counts: [AnomalyClass: Int], rate: (Int, Int)?) {
        self.counts = counts
        self.rate = rate
    }

    /// Instances of each class for a dataset of `orders` orders. A rate gives round(rate x orders)
    /// instances in all (at least one when the rate is above zero), dealt to the classes in turn.
    func resolved(orders: Int) -> [AnomalyClass: Int] {
        guard let rate else { return counts.filter { $0.value > 0 } }
        let total = rate.numerator == 0 ? 0 : max(1, (orders * rate.numerator * 2 + rate.denominator) / (2 * rate.denominator))
        var result: [AnomalyClass: Int] = [:]
        for index in 0..<total {
            let anomaly = AnomalyClass.allCases[index % AnomalyClass.allCases.count]
            result[anomaly, default: 0] += 1
        }
        return result
    }

    private static func parseRate(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(\.isNumber) }), !text.contains("=") else { return nil }
        let whole = Int(parts[0].isEmpty ? "0" : parts[0]) ?? 0
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard whole == 0 || (whole == 1 && fraction.allSatisfy { $0 == "0" }), fraction.count <= 9 else { return nil }
        var denominator = 1
        for _ in fraction { denominator *= 10 }
        return (whole * denominator + (Int(fraction.isEmpty ? "0" : fraction) ?? 0), denominator)
    }

    public static func == (lhs: AnomalySpec, rhs: AnomalySpec) -> Bool {
        lhs.counts == rhs.counts && lhs.rate?.numerator == rhs.rate?.numerator
            && lhs.rate?.denominator == rhs.rate?.denominator
    }

    public var description: String {
        if let rate { return "rate \(rate.numerator)/\(rate.denominator)" }
        if counts.isEmpty { return "none" }
        return counts.sorted { $0.key < $1.key }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: ",")
    }
}

/// A bad anomaly specification (exit code 2).
public struct AnomalySpecError: ReconError, Sendable {
    public var message: String
    public var failureClass: FailureClass { .badInput }
    public var description: String { message }
}

import Foundation
import Postgres

/// Seconds since the epoch as the contract's text forms, without Foundation formatters (fast and
/// independent of the machine's locale).
enum TimeText {
    /// `2026-10-03T10:15:00Z`
    static func iso(_ seconds: Int64) -> String { plain(seconds, separator: "T") + "Z" }

    /// `2026-10-03 10:15:00` (Stripe's `*_utc` and Adyen's local form).
    static func plain(_ seconds: Int64, separator: String = " ") -> String {
        let day = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let second = Int(seconds - Int64(day) * 86_400)
        return CalendarDate(daysSinceEpoch: day).description + separator + two(second / 3600) + ":"
            + two(second / 60 % 60) + ":" + two(second % 60)
    }

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }

    /// `20261003`
    static func compact(_ day: Int) -> String { CalendarDate(daysSinceEpoch: day).description.replacingOccurrences(of: "-", with: "") }
}

/// UTC offsets of one zone, cached by hour: business days and hours without per-row zone lookups.
final class ZoneOffsets {
    private let zone: TimeZone
    private var cache: [Int64: Int] = [:]

    init(_ identifier: String) throws {
        guard let zone = TimeZone(identifier: identifier) else {
            throw GeneratorError(message: "unknown time zone \(identifier)")
        }
        self.zone = zone
    }

    /// The zone's offset from UTC in seconds at an instant.
    func offset(at seconds: Int64) -> Int {
        let hour = seconds >= 0 ? seconds / 3600 : (seconds - 3599) / 3600
        if let cached = cache[hour] { return cached }
        let value = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(hour * 3600)))
        cache[hour] = value
        return value
    }

    /// The local day (days since the epoch) of an instant.
    func localDay(_ seconds: Int64) -> Int {
        let local = seconds + Int64(offset(at: seconds))
        return Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
    }

    /// The instant of a local wall-clock time (for a skipped DST hour, the hour after).
    func instant(day: Int, secondOfDay: Int) -> Int64 {
        let wall = Int64(day) * 86_400 + Int64(secondOfDay)
        let first = wall - Int64(offset(at: wall))
        return wall - Int64(offset(at: first))
    }

    /// The local wall-clock text of an instant.
    func localText(_ seconds: Int64) -> String { TimeText.plain(seconds + Int64(offset(at: seconds))) }
}

/// Money helpers over integer cents.
enum Money {
    /// `12.50` for 1250.
    static func text(_ cents: Int64) -> String { Cents(cents).description }

    /// round(cents x rate / 10^scale) half away from zero, as PostgreSQL's round() on numeric does.
    static func scaled(_ cents: Int64, by rate: Int64, scale: Int64) -> Int64 {
        let product = cents * rate
        let half = scale / 2
        return product >= 0 ? (product + half) / scale : -((-product + half) / scale)
    }

    /// `0.1250` for a rate of 1250 in units of 1/10000.
    static func rateText(_ rateE4: Int64) -> String {
        let fraction = String(rateE4 % 10_000)
        return "\(rateE4 / 10_000)." + String(repeating: "0", count: 4 - fraction.count) + fraction
    }
}

/// The gateways' fee schedules, as `pipeline/seeds/gateway_fee_schedule.csv` states them: each
/// component rounded half-up to cents on its own. Refund lines carry no fee (gateways keep the
/// charge's fee and charge nothing new).
enum FeeSchedule {
    /// Stripe: 2.9% + 0.30.
    static func stripe(_ gross: Int64) -> Int64 { gross <= 0 ? 0 : Money.scaled(gross, by: 290, scale: 10_000) + 30 }

    /// Adyen's four components for a capture: commission, markup, scheme fees, interchange.
    static func adyen(_ gross: Int64) -> SIMD4<Int64> {
        guard gross > 0 else { return .zero }
        return SIMD4(10, Money.scaled(gross, by: 60, scale: 10_000), 2, Money.scaled(gross, by: 110, scale: 10_000))
    }
}

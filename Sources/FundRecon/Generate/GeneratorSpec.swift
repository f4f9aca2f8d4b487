import Foundation
import Postgres

/// The arguments of `recon generate`: the same spec gives byte-identical files on any machine.
public struct GeneratorSpec: Sendable {
    /// The dataset in one line, as the reports name it.
    public var summary: String {
        "generated: seed \(seed), \(days) days from \(start), \(ordersPerDay) orders a day, anomalies \(anomalies)"
    }

    /// The random seed.
    public var seed: UInt64
    /// The first business day.
    public var start: CalendarDate
    /// How many business days.
    public var days: Int
    /// Average orders per day (weekends busier, weekdays quieter).
    public var ordersPerDay: Int
    /// How many merchants (sizes follow a long tail).
    public var merchants: Int
    /// How many resellers (each sells one merchant's goods).
    public var resellers: Int
    /// Which anomalies to inject.
    public var anomalies: AnomalySpec
    /// The IANA zone of business days and hours.
    public var businessTimeZone: String

    /// A spec with the defaults of `recon generate`.
    public init(
        seed: UInt64 = 42, start: CalendarDate, days: Int, ordersPerDay: Int, merchants: Int = 20, resellers: Int = 4,
        anomalies: AnomalySpec = .none, businessTimeZone: String = "UTC"
    ) {
        self.seed = seed
        self.start = start
        self.days = days
        self.ordersPerDay = ordersPerDay
        self.merchants = merchants
        self.resellers = resellers
        self.anomalies = anomalies
        self.businessTimeZone = businessTimeZone
    }

    /// Checks the spec; the error names the bad field.
    public func validate() throws {
        func fail(_ field: GeneratorError.Field, _ message: String) -> GeneratorError { GeneratorError(field: field, message: message) }
        guard days >= 1, days <= 3660 else { throw fail(.days, "must be between 1 and 3660") }
        guard ordersPerDay >= 1, ordersPerDay <= 5_000_000 else { throw fail(.ordersPerDay, "must be between 1 and 5000000") }
        guard merchants >= 1, merchants <= 100_000 else { throw fail(.merchants, "must be between 1 and 100000") }
        guard resellers >= 0, resellers <= 999 else { throw fail(.resellers, "must be between 0 and 999") }
        guard TimeZone(identifier: businessTimeZone) != nil else {
            throw fail(.businessTimezone, "'\(businessTimeZone)' is not an IANA time zone (e.g. Europe/Berlin)")
        }
    }
}

/// A bad generator argument or an output problem (exit code 2).
public struct GeneratorError: ReconError, Sendable {
    /// The generator setting a bad value was given for (a golden spec's key; the command line maps it to its flag).
    public enum Field: String, Sendable {
        case days, ordersPerDay = "orders_per_day", merchants, resellers, businessTimezone = "business_timezone"
    }

    /// The setting at fault, when the problem is one setting's value.
    public var field: Field?
    public var message: String

    public init(field: Field? = nil, message: String) {
        self.field = field
        self.message = message
    }

    public var failureClass: FailureClass { .badInput }
    public var description: String { (field.map { $0.rawValue + " " } ?? "") + message }
}

/// One injected anomaly, as `manifest.json` lists it.
public struct InjectedAnomaly: Sendable, Codable, Equatable {
    /// The anomaly class (`duplicate_capture` ...).
    public var anomalyClass: String
    /// The rule it breaks (`R1` ... `R13`).
    public var rule: String
    /// The keys it touched: order_id, payment_id, gateway_txn_ref, file, line ...
    public var keys: [String: String]
    /// The money it moves, as a decimal string, when it moves any.
    public var amount: String?
    /// A sentence saying what was done.
    public var detail: String

    enum CodingKeys: String, CodingKey {
        case anomalyClass = "class"
        case rule, keys, amount, detail
    }
}

/// What `recon generate` wrote.
public struct GenerationReport: Sendable {
    /// Rows written per file kind (`oltp/orders.csv`, `stripe lines` ...).
    public var rows: [String: Int] = [:]
    /// Files written.
    public var files = 0
    /// Orders generated.
    public var orders = 0
    /// Every injected anomaly.
    public var anomalies: [InjectedAnomaly] = []
    /// Anomalies that could not be placed (the dataset was too small for them).
    public var unplaced: [AnomalyClass: Int] = [:]
}

import Foundation
import Postgres

/// The instants a source row's event time (an order's creation, a capture, a refund, a gateway
/// line, a reseller sale) may plausibly fall in. A row outside it is a reject at load: one
/// mistyped year (9999-12-31) must not drive a model's calendar across eight thousand years.
///
/// The window is, first of all, the project vars `event_window_start` and `event_window_end`
/// (dates; the end is exclusive). Unset, it is the dataset's period with a margin of
/// `EventWindow.margin` days on each side: the period `manifest.json` states, else the days the
/// daily files are named after (Stripe files, reseller folders). A dataset that states neither
/// gets the outer bounds only.
public struct EventWindow: Sendable, Equatable, CustomStringConvertible {
    /// The first plausible instant.
    public var start: Date
    /// The first instant past the window.
    public var end: Date
    /// Where the window came from, for the rejects' reason.
    public var origin: String

    /// Days of margin around a dataset's period: late refunds, payouts and settlements of its orders.
    public static let margin = 366
    /// The widest window there is: no source of a running platform dates an event outside it.
    public static let outer = EventWindow(
        start: CalendarDate(year: 1970, month: 1, day: 1)!.midnightUTC, end: CalendarDate(year: 2100, month: 1, day: 1)!.midnightUTC,
        origin: "outer bounds")

    public var description: String {
        "[\(CalendarDate(utcDayOf: start)), \(CalendarDate(utcDayOf: end))) (\(origin))"
    }

    /// True when `instant` is inside the window.
    public func contains(_ instant: Date) -> Bool { instant >= start && instant < end }

    /// The window for the dataset in `directory` under the project's `vars`; a var that is not a
    /// date is a `BadValue` naming it.
    public static func plausible(for directory: String, vars: [String: String]) throws -> EventWindow {
        func date(_ name: String) throws -> CalendarDate? {
            guard let text = vars[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let day = CalendarDate(text) else { throw BadValue("var \(name) must be a date (YYYY-MM-DD), got '\(text)'") }
            return day
        }
        let declaredStart = try date("event_window_start")
        let declaredEnd = try date("event_window_end")
        if declaredStart != nil || declaredEnd != nil {
            return EventWindow(start: declaredStart?.midnightUTC ?? outer.start, end: declaredEnd?.midnightUTC ?? outer.end,
                               origin: "vars event_window_start/event_window_end")
        }
        guard let (first, last, origin) = period(of: directory) else { return outer }
        return EventWindow(start: first.adding(days: -margin).midnightUTC, end: last.adding(days: margin + 1).midnightUTC,
                           origin: "the dataset's period per \(origin), \(margin) days either side")
    }

    /// The dataset's first and last day, and what said so.
    static func period(of directory: String) -> (CalendarDate, CalendarDate, String)? {
        if let data = FileManager.default.contents(atPath: directory + "/manifest.json"),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let generator = object["generator"] as? [String: Any],
            let start = (generator["start"] as? String).flatMap(CalendarDate.init),
            let days = (generator["days"] as? String).flatMap(Int.init), (1...36_600).contains(days)
        {
            return (start, start.adding(days: days - 1), "manifest.json")
        }
        let files = FileManager.default
        let stripe = ((try? files.contentsOfDirectory(atPath: directory + "/gateway/stripe")) ?? []).compactMap { name -> CalendarDate? in
            guard name.hasSuffix(".csv") else { return nil }
            return CalendarDate(String(name.dropLast(4).suffix(10)))
        }
        let resellers = ((try? files.contentsOfDirectory(atPath: directory + "/resellers")) ?? []).compactMap(CalendarDate.init)
        let days = (stripe + resellers).filter { outer.contains($0.midnightUTC) }
        guard let first = days.min(), let last = days.max() else { return nil }
        return (first, last, "its daily file names")
    }
}

import Foundation
import Postgres
import XLSX

/// The workbook: Summary, Checks, Failures, Breaks, Gateway, Merchants. Money is a number with a
/// two-decimal format, dates are dates, headers frozen, autofilter on, widths fitted; text is always
/// written as text (a value starting with = + - @ never becomes a formula); constant-memory mode
/// streams rows so a million breaks do not fill memory.
public enum XLSXReport {
    /// A typed cell.
    enum Cell {
        case text(String), money(String), integer(Int), date(String), empty
        /// An ISO 8601 instant, written as a date-time (UTC).
        case timestamp(String)
        /// A month `YYYY-MM`, written as its first day shown as a month.
        case month(String)
        /// A whole number when the text is one (merchant ids: one type on every sheet), else text.
        case identifier(String)
    }

    struct Sheet {
        let worksheet: Worksheet
        let formats: Formats
        var row = 0
        var widths: [Int] = []

        mutating func write(_ cells: [Cell], header: Bool = false) throws {
            for (column, cell) in cells.enumerated() {
                var shown = 0
                switch cell {
                case .text(let text):
                    try worksheet.write(string: text, row: row, column: column, format: header ? formats.header : nil)
                    shown = text.count
                case .money(let text):
                    if let value = Double(text) {
                        try worksheet.write(number: value, row: row, column: column, format: formats.money)
                    } else if !text.isEmpty {
                        try worksheet.write(string: text, row: row, column: column)
                    }
                    shown = text.count + 3
                case .integer(let value):
                    try worksheet.write(number: Double(value), row: row, column: column)
                    shown = String(value).count
                case .date(let text):
                    if let date = CalendarDate(String(text.prefix(10))) {
                        try worksheet.write(year: date.year, month: date.month, day: date.day, row: row, column: column, format: formats.date)
                    } else if !text.isEmpty {
                        try worksheet.write(string: text, row: row, column: column)
                    }
                    shown = 10
                case .timestamp(let text):
                    let parts = text.split { "-T:Z".contains($0) }.map(String.init)
                    if parts.count >= 6, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
                       let hour = Int(parts[3]), let minute = Int(parts[4]), let second = Double(parts[5]) {
                        try worksheet.write(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                                            row: row, column: column, format: formats.timestamp)
                    } else if !text.isEmpty {
                        try worksheet.write(string: text, row: row, column: column)
                    }
                    shown = 19
                case .month(let text):
                    if let date = CalendarDate(String(text.prefix(7)) + "-01") {
                        try worksheet.write(year: date.year, month: date.month, day: 1, row: row, column: column, format: formats.month)
                    } else if !text.isEmpty {
                        try worksheet.write(string: text, row: row, column: column)
                    }
                    shown = 7
                case .identifier(let text):
                    if let value = Int(text) {
                        try worksheet.write(number: Double(value), row: row, column: column)
                    } else if !text.isEmpty {
                        try worksheet.write(string: text, row: row, column: column)
                    }
                    shown = text.count
                case .empty: break
                }
                while widths.count <= column { widths.append(6) }
                widths[column] = min(60, max(widths[column], shown + 2))
            }
            row += 1
        }

        func finish(columns: Int) throws {
            worksheet.freezePanes(row: 1, column: 0)
            try worksheet.setUpPrinting()
            if columns > 0 { try worksheet.autofilter(firstRow: 0, firstColumn: 0, lastRow: max(row - 1, 0), lastColumn: columns - 1) }
            for (column, width) in widths.enumerated() { try worksheet.setColumnWidth(column, width: Double(width)) }
        }
    }

    struct Formats {
        let header: CellFormat
        let money: CellFormat
        let date: CellFormat
        let timestamp: CellFormat
        let month: CellFormat
    }

    /// Writes the workbook; `breaks` streams every break into the Breaks sheet (without it, the
    /// breaks held in `data` are written).
    public static func write(
        _ result: AuditResult, data: ReportData?, context: ReportContext, to path: String, breaks source: BreakSource? = nil
    ) throws {
        let workbook = try Workbook(path: path, constantMemory: true)
        let formats = Formats(header: try workbook.addFormat(bold: true), money: try workbook.addFormat(numberFormat: "#,##0.00"),
                              date: try workbook.addFormat(numberFormat: "yyyy-mm-dd"),
                              timestamp: try workbook.addFormat(numberFormat: "yyyy-mm-dd hh:mm:ss"),
                              month: try workbook.addFormat(numberFormat: "yyyy-mm"))
        func sheet(_ name: String, _ header: [String]) throws -> Sheet {
            var sheet = Sheet(worksheet: try workbook.addWorksheet(name), formats: formats)
            try sheet.write(header.map { .text($0) }, header: true)
            return sheet
        }

        var summary = try sheet("Summary", ["Item", "Value"])
        let facts: [(String, Cell)] = [("Run", .text(result.runID)), ("Started", .timestamp(result.startedAt)),
                                        ("Finished", .timestamp(result.finishedAt)), ("Database", .text(result.database)),
                                        ("Dataset", .text(context.dataset)), ("Expectations", .text(result.expectations ?? "")),
                                        ("Expectations SHA-256", .text(context.expectationsSHA256)),
                                        ("Pipeline commit", .text(context.pipelineCommit ?? "")), ("Month", .month(context.month ?? ""))]
        for (name, value) in facts {
            switch value {
            case .text(let text) where text.isEmpty: continue
            case .month(let text) where text.isEmpty: continue
            default: try summary.write([.text(name), value])
            }
        }
        for (name, count) in [("Checks", result.summary.checks), ("Pass", result.summary.pass), ("Warn", result.summary.warn),
                              ("Fail", result.summary.fail), ("Waived", result.summary.waived), ("Error", result.summary.error)] {
            try summary.write([.text(name), .integer(count)])
        }
        if let data { try summary.write([.text("Breaks"), .integer(data.breakCount)]) }
        try summary.finish(columns: 2)

        // The close: who prepared and reviewed the month, and the fingerprint they signed.
        if context.month != nil {
            var signOff = try sheet("Sign-off", ["Role", "Signed by", "Signed at", "Fingerprint", "Status", "Note"])
            for role in SignOffs.Role.allCases where !context.signOffs.contains(where: { $0.role == role && $0.status == "active" }) {
                try signOff.write([.text(role.rawValue), .empty, .empty, .empty, .text("not signed"), .empty])
            }
            for record in context.signOffs {
                try signOff.write([.text(record.role.rawValue), .text(record.by), .timestamp(record.signedAt), .text(record.fingerprint),
                                   .text(record.status), .text(record.withdrawnReason ?? "")])
            }
            try signOff.finish(columns: 6)
        }

        var checks = try sheet("Checks", ["Check", "Layer", "Type", "Table", "Severity", "Status", "Failing rows", "Observed", "Description", "Duration (ms)"])
        for check in result.checks {
            let observed = check.status == .error ? (check.message ?? "") : check.outcome
            try checks.write([.text(check.id), .text(check.layer.name), .text(check.type), .text(check.table), .text(check.severity.rawValue),
                              .text(check.status.rawValue), .integer(check.failingRows), .text(observed), .text(check.description ?? ""),
                              .integer(check.durationMS)])
        }
        try checks.finish(columns: 10)

        var failures = try sheet("Failures", ["Check", "Row", "Column", "Value"])
        for check in result.checks where check.status == .fail || check.status == .warn {
            for (index, row) in check.sample.enumerated() {
                for column in check.sampleColumns ?? row.keys.sorted() {
                    let value = row[column] ?? .null
                    let cell: Cell
                    if case .numeral(let text) = value { cell = text.contains(".") ? .money(text) : .text(text) }
                    else { cell = .text(value.text) }
                    try failures.write([.text(check.id), .integer(index + 1), .text(column), cell])
                }
            }
        }
        try failures.finish(columns: 4)

        // Breaks per currency and type, a subtotal per currency: two currencies are never added.
        let weighed = data?.breakMateriality
        var summaryOfBreaks = try sheet("Break summary", ["Currency", "Break type", "Count", "Material", "Amount", "0-1 days", "2-7 days",
                                                          "8-30 days", ">30 days", "No date"])
        for (currency, types) in Dictionary(grouping: data?.breakTypes ?? [], by: \.currency).sorted(by: { $0.key < $1.key }) {
            let name = Cell.text(currency.isEmpty ? "(none)" : currency)
            for type in types {
                try summaryOfBreaks.write([name, .text(type.breakType), .integer(type.count), type.material.map { .integer($0) } ?? .empty,
                                           .money(type.amount)] + type.aging.map { .integer($0) })
            }
            let total = types.reduce(Cents(0)) { $0 + (Cents($1.amount) ?? Cents(0)) }
            let aging = (0..<5).map { index in types.reduce(0) { $0 + ($1.aging.count > index ? $1.aging[index] : 0) } }
            try summaryOfBreaks.write([name, .text("Total"), .integer(types.reduce(0) { $0 + $1.count }),
                                       weighed == nil ? .empty : .integer(types.reduce(0) { $0 + ($1.material ?? 0) }),
                                       .money(total.description)] + aging.map { .integer($0) }, header: true)
        }
        if let weighed { try summaryOfBreaks.write([.text("Material above"), .text(weighed.text)]) }
        try summaryOfBreaks.finish(columns: 10)

        var breaks = try sheet("Breaks", ["Break type", "Entity", "Key", "Merchant", "Gateway", "Currency", "Date", "Expected", "Actual",
                                          "Difference", "Age (days)", "Material", "Detail"])
        func writeBreak(_ row: ReportData.BreakRow) throws {
            try breaks.write([.text(row.breakType), .text(row.entityType), .text(row.entityKey), .identifier(row.merchantID ?? ""),
                              .text(row.gateway ?? ""), .text(row.currency ?? ""), .date(row.bizDate ?? ""), .money(row.expected ?? ""),
                              .money(row.actual ?? ""), .money(row.difference ?? ""), row.ageDays.map { .integer($0) } ?? .empty,
                              row.material.map { .text($0 ? "material" : "within") } ?? .empty, .text(row.detail)])
        }
        if let source {
            try source(writeBreak)
        } else {
            for row in data?.breaks ?? [] { try writeBreak(row) }
        }
        try breaks.finish(columns: 13)

        var gateway = try sheet("Gateway", ["Date", "Gateway", "Currency", "Captured", "Refunded", "Settled gross", "Fees", "Settled net", "Payouts"])
        for day in data?.gatewayDays ?? [] {
            try gateway.write([.date(day.bizDate), .text(day.gateway), .text(day.currency), .money(day.captured), .money(day.refunded),
                               .money(day.settledGross), .money(day.fees), .money(day.settledNet), .money(day.payouts)])
        }
        try gateway.finish(columns: 9)

        // The month per gateway and currency, with a total line per currency (never across currencies).
        var month = try sheet("Gateway month", ["Gateway", "Currency", "Captured", "Refunded", "Settled gross", "Fees", "Settled net", "Payouts"])
        let totals = data?.gatewayTotals ?? []
        for currency in Set(totals.map(\.currency)).sorted() {
            var total = Array(repeating: Cents(0), count: 6)
            for line in totals where line.currency == currency {
                for index in total.indices { total[index] = total[index] + line.sums[index] }
                try month.write([.text(line.gateway), .text(currency)] + line.sums.map { .money($0.description) })
            }
            try month.write([.text("Total"), .text(currency)] + total.map { .money($0.description) })
        }
        try month.finish(columns: 8)

        if let bridges = data?.bridges, !bridges.isEmpty {
            var bridge = try sheet("Bridge", ["Gateway", "Currency"] + ReportData.bridgeColumns.map(\.label))
            for row in bridges { try bridge.write([.text(row[0]), .text(row[1])] + row.dropFirst(2).map { .money($0) }) }
            try bridge.finish(columns: 2 + ReportData.bridgeColumns.count)
        }

        var merchants = try sheet("Merchants", ["Month", "Merchant", "Name", "Currency", "Opening", "Gross sales", "Merchant discounts",
                                                "Platform discounts", "Refunds", "Commission", "Net payable", "Payouts", "Closing"])
        for row in data?.statements ?? [] {
            try merchants.write([.month(row.month), .integer(row.merchantID), .text(row.merchantName), .text(row.currency), .money(row.opening),
                                 .money(row.gross), .money(row.merchantDiscount), .money(row.platformDiscount), .money(row.refunds),
                                 .money(row.commission), .money(row.netPayable), .money(row.payouts), .money(row.closing)])
        }
        try merchants.finish(columns: 13)

        // How the run went: the task timings, apart from the finance figures.
        var run = try sheet("Run", ["Stage", "Rows", "Duration (ms)"])
        for stage in result.stages { try run.write([.text(stage.name), .integer(stage.rows), .integer(stage.durationMS)]) }
        try run.finish(columns: 3)
        try workbook.close()
    }
}

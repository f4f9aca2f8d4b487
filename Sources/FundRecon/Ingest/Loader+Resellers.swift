import Foundation
import Postgres
import XMLReader

extension Loader {
    /// What one reseller file says about itself (from its root or H record, and its trailer).
    struct ResellerFileHeader {
        var fileID: String?
        var resellerID: String?
        var reportDate: String?
        var currency: String?
        var declaredCount: String?
        var declaredTotal: String?
        var hasTrailer = false
    }

    /// A sale as read, before its fields are checked.
    struct RawSale {
        var line: Int
        var raw: String
        var txnID: String?
        var orderRef: String?
        var soldAt: String?
        var currency: String?
        var amount: String?
    }

    func loadReseller(_ relative: String) throws {
        guard let sha = try checksum(relative, source: "reseller") else { return }
        let format = relative.hasSuffix(".xml") ? "xml" : "csv"
        var header = ResellerFileHeader()
        var sales: [RawSale] = []
        var rejects: [Reject] = []
        var controlRecords = 0
        if format == "xml" {
            try readXML(relative, header: &header, sales: &sales, rejects: &rejects, controlRecords: &controlRecords)
        } else {
            try readCSV(relative, header: &header, sales: &sales, rejects: &rejects, controlRecords: &controlRecords)
        }
        // A CSV report has no file id of its own: it is named like the XML ones, reseller and date.
        if header.fileID == nil, let reseller = header.resellerID, let date = header.reportDate {
            header.fileID = reseller + "-" + date.replacingOccurrences(of: "-", with: "")
        }
        var rows: [[String?]] = []
        for sale in sales {
            var values: [String?] = []
            var failure: String?
            let fields: [(String?, ColumnType, String)] = [
                (header.resellerID, .text, "reseller_id"), (header.fileID, .text, "file_id"),
                (header.reportDate, .date, "report_date"), (sale.txnID, .text, "txn_id"),
                (sale.orderRef, .text, "order_ref"), (sale.soldAt, .timestampWithOffset, "sold_at"),
                (sale.currency ?? header.currency, .text, "currency"), (sale.amount, .money, "amount"),
                (format, .text, "source_format"),
            ]
            for (text, type, column) in fields {
                guard let text, !text.isEmpty else {
                    failure = "missing \(column)"
                    break
                }
                switch FieldCheck.check(ArraySlice(text.utf8), as: type, column: column) {
                case .pass(let suffix): values.append(text + String(decoding: suffix, as: UTF8.self))
                case .null: values.append(nil)
                case .reject(let reason): failure = reason
                }
                if failure != nil { break }
            }
            if let failure {
                rejects.append(Reject(line: sale.line, raw: sale.raw, reason: failure))
            } else {
                rows.append(values + [relative, String(sale.line)])
            }
        }
        let loadedSales = rows.isEmpty ? 0 : try connection.copyIn(Sources.resellerSales.copySQL(schema: ods)) { writer in
            for row in rows { try writer.writeRow(row) }
        }
        // Records read = sale records + control records (root or H, trailer or T) + records that were
        // not even a sale (wrong column count, unknown type, broken XML). A file that does not say
        // which reseller and day it reports cannot be recorded: its control records become one reject.
        let structuralRejects = rejects.count - (sales.count - rows.count)
        var read = sales.count + structuralRejects
        var loaded = loadedSales
        try storeRejects(rejects, source: "reseller", file: relative)
        if let fileID = header.fileID, let reseller = header.resellerID, CalendarDate(header.reportDate ?? "") != nil {
            let count = header.declaredCount.flatMap { Int64($0) }.map(String.init)
            let total = header.declaredTotal.flatMap { Cents($0) }?.description
            try connection.execute("""
                INSERT INTO \(schema: ods, table: "ods_reseller_files")
                  (file_id, reseller_id, report_date, source_format, declared_count, declared_total, has_trailer,
                   _source_file, _source_line)
                VALUES (\(fileID), \(reseller), \(header.reportDate)::date, \(format), \(count)::bigint,
                        \(total)::numeric, \(header.hasTrailer), \(relative), 1)
                """)
            read += controlRecords
            loaded += controlRecords
        } else {
            let reject = Reject(line: 1, raw: "", reason: "the file does not say which reseller and day it reports")
            rejects.append(reject)
            try storeRejects([reject], source: "reseller", file: relative)
            read += 1
        }
        report.files.append(FileLoad(
            source: "reseller", file: relative, sha256: sha, rowsRead: read, rowsLoaded: loaded,
            rowsRejected: rejects.count, status: header.hasTrailer ? .loaded : .truncated, duplicateOf: nil))
        if !header.hasTrailer { logger.warning("\(relative) has no trailer: its lines loaded, the file is flagged truncated") }
    }

    func readXML(
        _ relative: String, header: inout ResellerFileHeader, sales: inout [RawSale], rejects: inout [Reject],
        controlRecords: inout Int
    ) throws {
        let reader = try XMLStreamReader(path: directory + "/" + relative)
        do {
            while try reader.next() {
                guard reader.nodeType == .element else { continue }
                let attributes = Dictionary(reader.attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
                switch (reader.depth, reader.name) {
                case (0, "resellerReport"):
                    header.resellerID = attributes["resellerId"]
                    header.reportDate = attributes["reportDate"]
                    header.currency = attributes["currency"]
                    header.fileID = attributes["fileId"]
                    controlRecords += 1
                case (1, "sale"):
                    let raw = "<sale " + reader.attributes.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: " ") + "/>"
                    sales.append(RawSale(
                        line: reader.lineNumber, raw: raw, txnID: attributes["txnId"], orderRef: attributes["orderRef"],
                        soldAt: attributes["soldAt"], currency: attributes["currency"], amount: attributes["amount"]))
                case (1, "trailer"):
                    header.hasTrailer = true
                    header.declaredCount = attributes["recordCount"]
                    header.declaredTotal = attributes["totalAmount"]
                    controlRecords += 1
                default:
                    let raw = "<\(reader.name)>"
                    rejects.append(Reject(line: reader.lineNumber, raw: raw, reason: "unknown element <\(reader.name)> at depth \(reader.depth)"))
                }
            }
        } catch let error as XMLReaderError {
            // What was read before the damage stays loaded; the damage itself is a reject, and a
            // file that breaks off has, by definition, no trailer.
            rejects.append(Reject(line: max(error.line, 1), raw: "(unparsable XML)", reason: "malformed XML: \(error.message)"))
        }
    }

    func readCSV(
        _ relative: String, header: inout ResellerFileHeader, sales: inout [RawSale], rejects: inout [Reject],
        controlRecords: inout Int
    ) throws {
        let reader = try CSVReader(path: directory + "/" + relative)
        var record = CSVRecord()
        guard reader.next(into: &record) else {
            throw InputError(file: relative, line: 1, message: "the file is empty: a header row is required")
        }
        let names = (0..<record.count).map { record.string($0).trimmingCharacters(in: .whitespaces) }
        let required = ["record_type", "reseller_id", "report_date", "txn_id", "order_ref", "sold_at", "currency", "amount",
                        "record_count", "total_amount"]
        var index: [String: Int] = [:]
        for column in required {
            guard let position = names.firstIndex(of: column) else {
                throw InputError(file: relative, line: 1, column: column, message: "required column is missing")
            }
            index[column] = position
        }
        while reader.next(into: &record) {
            if let reason = Loader.encodingProblem(record.rawBytes) {
                rejects.append(Reject(line: record.line, raw: Loader.printable(record.rawBytes), reason: reason))
                continue
            }
            guard record.count == names.count else {
                rejects.append(Reject(line: record.line, raw: record.rawText,
                                      reason: "wrong column count: expected \(names.count), got \(record.count)"))
                continue
            }
            func value(_ column: String) -> String? {
                guard let position = index[column] else { return nil }
                let text = record.string(position)
                return text.isEmpty ? nil : text
            }
            switch value("record_type") {
            case "H":
                header.resellerID = value("reseller_id")
                header.reportDate = value("report_date")
                header.currency = value("currency")
                controlRecords += 1
            case "D":
                sales.append(RawSale(
                    line: record.line, raw: record.rawText, txnID: value("txn_id"), orderRef: value("order_ref"),
                    soldAt: value("sold_at"), currency: value("currency"), amount: value("amount")))
            case "T":
                header.hasTrailer = true
                header.declaredCount = value("record_count")
                header.declaredTotal = value("total_amount")
                controlRecords += 1
            case let other:
                rejects.append(Reject(line: record.line, raw: record.rawText,
                                      reason: "unknown record type '\(other ?? "")' (expected H, D or T)"))
            }
        }
    }
}

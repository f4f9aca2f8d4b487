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
        /// The XML broke off before its end.
        var isMalformed = false
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
        let format = relative.hasSuffix(".xml") ? "xml" : "csv"
        // An XML file is hashed before it is parsed; a CSV file while it is read, and nothing is
        // written before its checksum says it is new. A CSV file loaded before and unchanged since,
        // by its stamp, is not read at all (at 10,000,000 orders a month, 20 MB every hour).
        var sha = ""
        if format == "xml" {
            guard let known = try checksum(relative, source: "reseller") else { return }
            sha = known
        } else if unchangedSinceHashed(relative) != nil, window?.knownFiles[relative] != nil {
            return
        }
        if format == "xml", let reason = try Loader.refusal(ofXML: directory + "/" + relative) {
            try storeRejects([Reject(line: 1, raw: "", reason: reason)], source: "reseller", file: relative)
            report.files.append(FileLoad(
                source: "reseller", file: relative, sha256: sha, rowsRead: 1, rowsLoaded: 0, rowsRejected: 1, status: .rejected,
                duplicateOf: nil))
            logger.warning("\(relative): \(reason)")
            return
        }
        var header = ResellerFileHeader()
        var sales: [RawSale] = []
        var rejects: [Reject] = []
        var controlRecords = 0
        if format == "xml" {
            try readXML(relative, header: &header, sales: &sales, rejects: &rejects, controlRecords: &controlRecords)
        } else {
            let digest = try readCSV(relative, header: &header, sales: &sales, rejects: &rejects, controlRecords: &controlRecords)
            guard try isNewVersion(relative, sha: digest.hex),
                  try !isDuplicate(relative, source: "reseller", sha: digest.hex, lineBreaks: digest.lineBreaks)
            else { return }
            sha = digest.hex
        }
        // A CSV report has no file id of its own: it is named like the XML ones, reseller and date.
        if header.fileID == nil, let reseller = header.resellerID, let date = header.reportDate {
            header.fileID = reseller + "-" + date.replacingOccurrences(of: "-", with: "")
        }
        // Checked sales go straight into COPY's buffer; a bad one takes its half-written row back out.
        var loadedSales = 0
        if !sales.isEmpty {
            let lineage = Array(relative.utf8)
            loadedSales = try connection.copyIn(Sources.resellerSales.copySQL(schema: ods)) { writer in
                for sale in sales {
                    let mark = writer.rowMark
                    var failure: String?
                    let values: [(String?, ColumnType, String)] = [
                        (header.resellerID, .text, "reseller_id"), (header.fileID, .text, "file_id"),
                        (header.reportDate, .date, "report_date"), (sale.txnID, .text, "txn_id"),
                        (sale.orderRef, .text, "order_ref"), (sale.soldAt, .timestampWithOffset, "sold_at"),
                        (sale.currency ?? header.currency, .text, "currency"), (sale.amount, .money, "amount"),
                        (format, .text, "source_format"),
                    ]
                    for (slot, (text, type, column)) in values.enumerated() {
                        guard let text, !text.isEmpty else {
                            failure = "missing \(column)"
                            break
                        }
                        let field = Array(text.utf8)[...]
                        switch fields.check(field, as: type, column: column, event: column == "sold_at") {
                        case .pass(let suffix):
                            writer.writeField(field, first: slot == 0)
                            if !suffix.isEmpty { writer.writeField(suffix, first: true) }
                        case .null: writer.writeNull(first: slot == 0)
                        case .reject(let reason): failure = reason
                        }
                        if failure != nil { break }
                    }
                    if let failure {
                        writer.discardRow(from: mark)
                        rejects.append(Reject(line: sale.line, raw: sale.raw, reason: failure))
                        continue
                    }
                    writer.writeField(lineage, first: false)
                    writer.writeField(integer: sale.line, first: false)
                    try writer.endRow()
                }
            }
        }
        // Records read = sale records + control records (root or H, trailer or T) + records that were
        // not even a sale (wrong column count, unknown type, broken XML). A file that does not say
        // which reseller and day it reports cannot be recorded: its control records become one reject.
        let structuralRejects = rejects.count - (sales.count - loadedSales)
        var read = sales.count + structuralRejects
        var loaded = loadedSales
        try storeRejects(rejects, source: "reseller", file: relative)
        if let fileID = header.fileID, let reseller = header.resellerID, CalendarDate(header.reportDate ?? "") != nil {
            let count = header.declaredCount.flatMap { Int64($0) }.map(String.init)
            let total = header.declaredTotal.flatMap { Cents($0) }?.description
            resellerFileRows.append([
                fileID, reseller, header.reportDate.flatMap(CalendarDate.init)?.description, format, count, total,
                header.hasTrailer ? "t" : "f", relative, "1",
            ])
            read += controlRecords
            loaded += controlRecords
        } else {
            let empty = sales.isEmpty && controlRecords == 0 && rejects.isEmpty
            let reject = Reject(line: 1, raw: "", reason: empty ? Loader.emptyFileReason
                                                               : "the file does not say which reseller and day it reports")
            rejects.append(reject)
            try storeRejects([reject], source: "reseller", file: relative)
            read += 1
        }
        let status: FileLoadStatus = header.isMalformed ? .malformed : header.hasTrailer ? .loaded : .truncated
        report.files.append(FileLoad(
            source: "reseller", file: relative, sha256: sha, rowsRead: read, rowsLoaded: loaded,
            rowsRejected: rejects.count, status: status, duplicateOf: nil))
        if status == .truncated { logger.warning("\(relative) has no trailer: its lines loaded, the file is flagged truncated") }
        if status == .malformed { logger.warning("\(relative) breaks off: what came before loaded, every sale after is a reject") }
    }

    func readXML(
        _ relative: String, header: inout ResellerFileHeader, sales: inout [RawSale], rejects: inout [Reject],
        controlRecords: inout Int
    ) throws {
        let reader = try XMLStreamReader(path: directory + "/" + relative)
        do {
            while try reader.next() {
                if reader.isDocumentType || reader.isEntityReference {
                    throw XMLReaderError(file: relative, line: reader.lineNumber, message: "a DOCTYPE or entity is not accepted")
                }
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
            // What was read before the damage stays loaded; the damage itself is a reject, and so is
            // every sale after it (nothing after a break is trusted, nothing is lost uncounted). A
            // file that breaks off has, by definition, no trailer.
            rejects.append(Reject(line: max(error.line, 1), raw: "(unparsable XML)", reason: "malformed XML: \(error.message)"))
            let lastRead = max(sales.last?.line ?? 0, error.line - 1)
            for (line, text) in try Loader.lines(of: directory + "/" + relative, after: lastRead) where text.contains("<sale") {
                rejects.append(Reject(line: line, raw: text, reason: "not read: the XML breaks off at line \(error.line) before it"))
                // Sales after the break: the file is damaged, not merely cut short (truncated).
                header.isMalformed = true
            }
        }
    }

    /// Why an XML file is refused whole before it is parsed: a DOCTYPE (entity declarations would
    /// be expanded into the values, and nothing in a reseller report needs one), or an encoding
    /// declaration its bytes contradict (UTF-8 bytes read as ISO-8859-1 load garbled names).
    static func refusal(ofXML path: String) throws -> String? {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "cannot read the file")
        }
        if bytes.range(of: Data("<!DOCTYPE".utf8)) != nil || bytes.range(of: Data("<!ENTITY".utf8)) != nil {
            return "the file declares a DOCTYPE or entities, which reseller reports never need: refused whole (nothing loaded)"
        }
        let prolog = String(decoding: bytes.prefix(512), as: UTF8.self)
        let pattern = try NSRegularExpression(pattern: #"^\s*<\?xml[^>]*\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']"#)
        if let match = pattern.firstMatch(in: prolog, range: NSRange(prolog.startIndex..., in: prolog)),
            let range = Range(match.range(at: 1), in: prolog)
        {
            let declared = String(prolog[range])
            let utf8Names: Set<String> = ["utf-8", "utf8", "us-ascii", "ascii"]
            if !utf8Names.contains(declared.lowercased()), bytes.contains(where: { $0 >= 0x80 }),
                String(validating: [UInt8](bytes), as: UTF8.self) != nil
            {
                return "the file declares encoding \(declared) but its bytes are UTF-8: its text would load garbled; refused whole"
            }
        }
        return nil
    }

    /// The file's lines after line `line` (1-based), as printable text.
    static func lines(of path: String, after line: Int) throws -> [(Int, String)] {
        guard let bytes = FileManager.default.contents(atPath: path) else { return [] }
        var result: [(Int, String)] = []
        for (index, text) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where index + 1 > line {
            result.append((index + 1, Loader.printable(Array(text.prefix(4096)))))
        }
        return result
    }

    /// Reads a reseller CSV file; returns its checksum, taken while it was read.
    func readCSV(
        _ relative: String, header: inout ResellerFileHeader, sales: inout [RawSale], rejects: inout [Reject],
        controlRecords: inout Int
    ) throws -> (hex: String, lineBreaks: Int) {
        let reader = try CSVReader(path: directory + "/" + relative, shownAs: relative)
        var record = CSVRecord()
        guard try reader.next(into: &record) else { return try reader.digest() }  // empty: the file's one reject says so
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
        while try reader.next(into: &record) {
            if let problem = record.framingProblem {
                rejects.append(Reject(line: record.line, raw: Loader.printable(record.rawBytes), reason: problem))
                continue
            }
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
        return try reader.digest()
    }
}

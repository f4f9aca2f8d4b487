import Foundation
import Testing
import XLSX

@Suite("XLSX workbooks through libxlsxwriter")
struct WorkbookTests {
    /// Reads one part of the workbook's zip with Python's zipfile (a real, independent reader).
    func part(_ name: String, of path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())", path, name]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test func writesTypedCellsAndFormulaLookingTextAsStrings() throws {
        let path = NSTemporaryDirectory() + "recon-xlsx-\(UUID().uuidString).xlsx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let workbook = try Workbook(path: path)
        let sheet = try workbook.addWorksheet("Summary")
        let money = try workbook.addFormat(numberFormat: "#,##0.00")
        let bold = try workbook.addFormat(bold: true)
        try sheet.write(string: "merchant", row: 0, column: 0, format: bold)
        try sheet.write(string: "amount", row: 0, column: 1, format: bold)
        try sheet.write(string: "=HYPERLINK(\"http://x\",\"y\")", row: 1, column: 0)
        try sheet.write(number: 1234.5, row: 1, column: 1, format: money)
        sheet.freezePanes(row: 1, column: 0)
        try sheet.autofilter(firstRow: 0, firstColumn: 0, lastRow: 1, lastColumn: 1)
        try sheet.setColumnWidth(0, width: 30)
        try workbook.close()

        let xml = try part("xl/worksheets/sheet1.xml", of: path)
        #expect(xml.contains("t=\"inlineStr\"") || xml.contains("t=\"s\""))
        #expect(!xml.contains("<f>"))
        #expect(xml.contains("<v>1234.5</v>"))
        #expect(xml.contains("<autoFilter ref=\"A1:B2\"/>"))
        #expect(xml.contains("state=\"frozen\""))
        #expect(xml.contains("HYPERLINK"))
        #expect(try part("xl/workbook.xml", of: path).contains("name=\"Summary\""))
    }

    /// A string past Excel's 32,767-character cell limit made libxlsxwriter refuse the cell (the
    /// workbook was left half-written): it is cut, with a marker saying so, and the file is whole.
    @Test func textPastTheCellLimitIsCutWithAMarker() throws {
        let path = NSTemporaryDirectory() + "recon-xlsx-long-\(UUID().uuidString).xlsx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let workbook = try Workbook(path: path)
        let sheet = try workbook.addWorksheet("Long")
        let long = String(repeating: "é", count: 40_000)
        try sheet.write(string: long, row: 0, column: 0)
        try sheet.write(string: "after", row: 1, column: 0)
        try workbook.close()
        let strings = try part("xl/worksheets/sheet1.xml", of: path)  // constant-memory mode writes strings inline
        #expect(strings.contains("cut at Excel's limit: 40000 characters in all"))
        #expect(strings.contains("after"))
        let fitted = Worksheet.fitting(long)
        #expect(fitted.unicodeScalars.count == Worksheet.maxStringLength)
        #expect(Worksheet.fitting("short") == "short")
    }

    @Test func unwritablePathIsAnErrorNamingTheFile() throws {
        let workbook = try Workbook(path: "/nonexistent/dir/out.xlsx")
        _ = try workbook.addWorksheet("S")
        let error = try #require(throws: XLSXError.self) { try workbook.close() }
        #expect(error.file == "/nonexistent/dir/out.xlsx")
    }
}

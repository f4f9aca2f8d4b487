import CXlsxWriter
import Foundation

/// A failure from libxlsxwriter, with the file it was writing.
public struct XLSXError: Error, Sendable, CustomStringConvertible {
    /// The workbook path.
    public var file: String
    /// libxlsxwriter's message.
    public var message: String

    public var description: String { "\(file): \(message)" }
}

/// An XLSX workbook written with libxlsxwriter; `close()` writes the file.
///
/// In constant-memory mode each row is flushed as soon as a later row is written, so rows
/// must be written in order, and memory stays flat however many rows there are.
public final class Workbook {
    private var handle: UnsafeMutablePointer<lxw_workbook>?
    /// Where the workbook is written.
    public let path: String

    /// Starts a workbook at `path`.
    public init(path: String, constantMemory: Bool = true) throws {
        self.path = path
        var options = lxw_workbook_options()
        options.constant_memory = constantMemory ? 1 : 0
        options.use_zip64 = 1
        guard let handle = workbook_new_opt(path, &options) else {
            throw XLSXError(file: path, message: "cannot create the workbook")
        }
        self.handle = handle
    }

    deinit {
        // An unclosed workbook still owns memory; closing writes the file, which is harmless.
        if let handle { workbook_close(handle) }
    }

    /// The libxlsxwriter version linked.
    public static var libraryVersion: String { String(cString: lxw_version()) }

    /// Adds a worksheet (names are at most 31 characters, without `[]:*?/\`).
    public func addWorksheet(_ name: String) throws -> Worksheet {
        guard let handle, let sheet = workbook_add_worksheet(handle, name) else {
            throw XLSXError(file: path, message: "cannot add worksheet '\(name)'")
        }
        return Worksheet(handle: sheet, workbook: self)
    }

    /// A cell format: a number format (`#,##0.00`, `yyyy-mm-dd`) and boldness.
    public func addFormat(numberFormat: String? = nil, bold: Bool = false) throws -> CellFormat {
        guard let handle, let format = workbook_add_format(handle) else {
            throw XLSXError(file: path, message: "cannot add a format")
        }
        if let numberFormat { format_set_num_format(format, numberFormat) }
        if bold { format_set_bold(format) }
        return CellFormat(handle: format)
    }

    /// Writes the file and releases the workbook.
    public func close() throws {
        guard let handle else { return }
        self.handle = nil
        let error = workbook_close(handle)
        guard error == LXW_NO_ERROR else {
            throw XLSXError(file: path, message: String(cString: lxw_strerror(error)))
        }
    }
}

/// A format created by a workbook; valid while the workbook is open.
public struct CellFormat {
    let handle: UnsafeMutablePointer<lxw_format>
}

/// One sheet of a workbook.
public final class Worksheet {
    private let handle: UnsafeMutablePointer<lxw_worksheet>
    private unowned let workbook: Workbook

    init(handle: UnsafeMutablePointer<lxw_worksheet>, workbook: Workbook) {
        self.handle = handle
        self.workbook = workbook
    }

    /// The most characters a cell holds (Excel's limit).
    public static let maxStringLength = 32_767

    /// Writes text as a string cell: never a formula, whatever it starts with. Text past Excel's
    /// limit is cut, ending with a marker that says how long it was.
    public func write(string: String, row: Int, column: Int, format: CellFormat? = nil) throws {
        let text = Worksheet.fitting(string)
        try check(worksheet_write_string(handle, lxw_row_t(row), lxw_col_t(column), text, format?.handle))
    }

    /// `text`, or its start and a marker when it has more characters than a cell holds.
    public static func fitting(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > maxStringLength else { return text }
        let marker = " [... cut at Excel's limit: \(scalars.count) characters in all; the full text is in the HTML and JSON reports]"
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: scalars.prefix(maxStringLength - marker.unicodeScalars.count))
        return String(kept) + marker
    }

    /// Writes a number cell. Money is passed as its exact decimal text's value; the cell holds
    /// what Excel can hold (a double), the format shows cents.
    public func write(number: Double, row: Int, column: Int, format: CellFormat? = nil) throws {
        try check(worksheet_write_number(handle, lxw_row_t(row), lxw_col_t(column), number, format?.handle))
    }

    /// Writes a calendar date as an Excel date (shown with `format`, such as yyyy-mm-dd).
    public func write(year: Int, month: Int, day: Int, row: Int, column: Int, format: CellFormat? = nil) throws {
        try write(year: year, month: month, day: day, hour: 0, minute: 0, second: 0, row: row, column: column, format: format)
    }

    /// Writes a date and time as an Excel date-time (shown with `format`).
    public func write(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Double, row: Int, column: Int,
                      format: CellFormat? = nil) throws {
        var date = lxw_datetime(year: Int32(year), month: Int32(month), day: Int32(day), hour: Int32(hour), min: Int32(minute), sec: second)
        try check(worksheet_write_datetime(handle, lxw_row_t(row), lxw_col_t(column), &date, format?.handle))
    }

    /// Prints the sheet landscape, as wide as one page, with its first row on every page.
    public func setUpPrinting() throws {
        worksheet_set_landscape(handle)
        worksheet_fit_to_pages(handle, 1, 0)
        try check(worksheet_repeat_rows(handle, 0, 0))
    }

    /// Freezes the rows above `row` and the columns left of `column`.
    public func freezePanes(row: Int, column: Int) {
        worksheet_freeze_panes(handle, lxw_row_t(row), lxw_col_t(column))
    }

    /// Turns on the autofilter over a range.
    public func autofilter(firstRow: Int, firstColumn: Int, lastRow: Int, lastColumn: Int) throws {
        try check(
            worksheet_autofilter(
                handle, lxw_row_t(firstRow), lxw_col_t(firstColumn), lxw_row_t(lastRow), lxw_col_t(lastColumn)))
    }

    /// Sets a column's width in characters.
    public func setColumnWidth(_ column: Int, width: Double) throws {
        try check(worksheet_set_column(handle, lxw_col_t(column), lxw_col_t(column), width, nil))
    }

    private func check(_ error: lxw_error) throws {
        guard error == LXW_NO_ERROR else {
            throw XLSXError(file: workbook.path, message: String(cString: lxw_strerror(error)))
        }
    }
}

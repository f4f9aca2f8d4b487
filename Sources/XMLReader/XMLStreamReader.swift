import CLibXML2
import Foundation

/// An XML parse failure: the file, the line and libxml2's message.
public struct XMLReaderError: Error, Sendable, CustomStringConvertible {
    /// The file read (or `<memory>`).
    public var file: String
    /// 1-based line of the failure, 0 when unknown.
    public var line: Int
    /// What libxml2 reported.
    public var message: String

    public var description: String { "\(file):\(line): \(message)" }

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }
}

/// Walks an XML document one node at a time with libxml2's streaming reader, for untrusted input:
/// no network access, no entity substitution, no external DTD loading, libxml2's default depth
/// and size limits. Memory stays flat whatever the file size.
public final class XMLStreamReader {
    /// The kinds of node a caller sees.
    public enum NodeType: Sendable, Equatable {
        case element, endElement, text, other
    }

    private let reader: OpaquePointer
    private let errors: ErrorBox
    private let memory: UnsafeMutableRawPointer?
    /// The source, for error messages.
    public let source: String

    /// Opens a file for streaming.
    public init(path: String) throws {
        XMLStreamReader.initializeOnce
        errors = ErrorBox()
        memory = nil
        source = path
        guard let reader = xmlReaderForFile(path, nil, XMLStreamReader.safeOptions) else {
            throw XMLReaderError(file: path, line: 0, message: "cannot open the file")
        }
        self.reader = reader
        installErrorHandler()
    }

    /// Reads a document held in memory.
    public init(bytes: [UInt8], name: String = "<memory>") throws {
        XMLStreamReader.initializeOnce
        errors = ErrorBox()
        source = name
        let copy = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { copy.copyMemory(from: base, byteCount: raw.count) }
        }
        memory = copy
        guard
            let reader = xmlReaderForMemory(
                copy.assumingMemoryBound(to: CChar.self), Int32(bytes.count), name, nil, XMLStreamReader.safeOptions)
        else {
            copy.deallocate()
            throw XMLReaderError(file: name, line: 0, message: "cannot create an XML reader")
        }
        self.reader = reader
        installErrorHandler()
    }

    deinit {
        xmlFreeTextReader(reader)
        memory?.deallocate()
    }

    /// The libxml2 version linked, such as `2.9.14`.
    public static var libraryVersion: String { LIBXML_DOTTED_VERSION }

    /// Advances to the next node; false at the end of the document. Throws on malformed XML.
    public func next() throws -> Bool {
        let status = xmlTextReaderRead(reader)
        if status == 1 { return true }
        if let error = errors.first { throw error }
        if status == 0 { return false }
        throw XMLReaderError(file: source, line: lineNumber, message: "malformed XML")
    }

    /// The current node's kind.
    public var nodeType: NodeType {
        switch xmlTextReaderNodeType(reader) {
        case Int32(XML_READER_TYPE_ELEMENT.rawValue): return .element
        case Int32(XML_READER_TYPE_END_ELEMENT.rawValue): return .endElement
        case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue): return .text
        default: return .other
        }
    }

    /// True when the current node is a DOCTYPE declaration (untrusted files should not carry one).
    public var isDocumentType: Bool { xmlTextReaderNodeType(reader) == Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue) }

    /// True when the current node is an entity reference left unexpanded.
    public var isEntityReference: Bool {
        xmlTextReaderNodeType(reader) == Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue)
    }

    /// The current node's local name.
    public var name: String { xmlTextReaderConstLocalName(reader).map { String(cString: $0) } ?? "" }

    /// The text of a text node.
    public var value: String? { xmlTextReaderConstValue(reader).map { String(cString: $0) } }

    /// The nesting depth of the current node (the root is 0).
    public var depth: Int { Int(xmlTextReaderDepth(reader)) }

    /// True for `<x/>`.
    public var isEmptyElement: Bool { xmlTextReaderIsEmptyElement(reader) == 1 }

    /// The line of the current node in the source (where its start tag is).
    public var lineNumber: Int {
        guard let node = xmlTextReaderCurrentNode(reader) else { return Int(xmlTextReaderGetParserLineNumber(reader)) }
        return Int(xmlGetLineNo(node))
    }

    /// The current element's attributes, in document order.
    public var attributes: [(name: String, value: String)] {
        var result: [(String, String)] = []
        guard xmlTextReaderMoveToFirstAttribute(reader) == 1 else { return result }
        repeat {
            let name = xmlTextReaderConstLocalName(reader).map { String(cString: $0) } ?? ""
            let value = xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? ""
            result.append((name, value))
        } while xmlTextReaderMoveToNextAttribute(reader) == 1
        xmlTextReaderMoveToElement(reader)
        return result
    }

    /// One attribute of the current element.
    public func attribute(_ name: String) -> String? {
        guard xmlTextReaderMoveToAttribute(reader, name) == 1 else { return nil }
        defer { xmlTextReaderMoveToElement(reader) }
        return xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? ""
    }

    // No NOENT (entities stay references), no DTDLOAD, no HUGE; NONET forbids fetching anything.
    private static let safeOptions = Int32(XML_PARSE_NONET.rawValue)

    private static let initializeOnce: Void = { xmlInitParser() }()

    private func installErrorHandler() {
        let context = Unmanaged.passUnretained(errors).toOpaque()
        errors.source = source
        xmlTextReaderSetStructuredErrorHandler(
            reader,
            { context, error in
                guard let context, let error else { return }
                let box = Unmanaged<ErrorBox>.fromOpaque(context).takeUnretainedValue()
                let text = error.pointee.message.map { String(cString: $0) } ?? "malformed XML"
                box.record(XMLReaderError(
                    file: box.source, line: Int(error.pointee.line),
                    message: text.trimmingCharacters(in: .whitespacesAndNewlines)))
            }, context)
    }
}

/// Collects the first error libxml2 reports through its callback.
private final class ErrorBox {
    var source = ""
    private(set) var first: XMLReaderError?

    func record(_ error: XMLReaderError) {
        if first == nil { first = error }
    }
}

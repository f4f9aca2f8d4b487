import Foundation
import Testing
import XMLReader

@Suite("Streaming XML with safe options")
struct XMLStreamReaderTests {
    func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.path(forResource: name, ofType: "xml", inDirectory: "Fixtures"))
    }

    @Test func readsElementsAttributesAndLines() throws {
        let reader = try XMLStreamReader(path: fixture("reseller"))
        var sales: [(String, String, Int)] = []
        var root: [String: String] = [:]
        var trailer: String?
        while try reader.next() {
            guard reader.nodeType == .element else { continue }
            switch reader.name {
            case "resellerReport": root = Dictionary(uniqueKeysWithValues: reader.attributes.map { ($0.name, $0.value) })
            case "sale": sales.append((reader.attribute("txnId") ?? "", reader.attribute("amount") ?? "", reader.lineNumber))
            case "trailer": trailer = reader.attribute("totalAmount")
            default: break
            }
        }
        #expect(root["resellerId"] == "RS001")
        #expect(root["fileId"] == "RS001-20261003")
        #expect(sales.map(\.0) == ["RS001-000123", "RS001-000124"])
        #expect(sales.map(\.1) == ["12.50", "7.25"])
        #expect(sales.map(\.2) == [3, 4])
        #expect(trailer == "19.75")
    }

    @Test func externalEntityIsRefusedAndLoadsNoFileContent() throws {
        let reader = try XMLStreamReader(path: fixture("xxe"))
        var values: [String] = []
        let error = try #require(throws: XMLReaderError.self) {
            while try reader.next() {
                if reader.nodeType == .element, let value = reader.attribute("txnId") { values.append(value) }
            }
        }
        #expect(error.message.contains("entity"), "\(error)")
        #expect(error.line == 3)
        #expect(values.allSatisfy { !$0.contains("root:") })
    }

    @Test func billionLaughsIsNotExpanded() throws {
        let reader = try XMLStreamReader(path: fixture("billion_laughs"))
        var textBytes = 0
        do {
            while try reader.next() {
                if reader.nodeType == .text { textBytes += reader.value?.utf8.count ?? 0 }
            }
        } catch is XMLReaderError {}
        #expect(textBytes < 1_000)
    }

    @Test func deepNestingIsRejected() throws {
        let reader = try XMLStreamReader(path: fixture("deep"))
        let error = try #require(throws: XMLReaderError.self) {
            while try reader.next() {}
        }
        #expect(error.file.hasSuffix("deep.xml"))
        #expect(error.message.lowercased().contains("depth") || error.message.lowercased().contains("nest"))
    }

    @Test func malformedXMLNamesFileAndLine() throws {
        let reader = try XMLStreamReader(path: fixture("broken"))
        let error = try #require(throws: XMLReaderError.self) {
            while try reader.next() {}
        }
        #expect(error.file.hasSuffix("broken.xml"))
        #expect(error.line == 4)
    }

    @Test func readsFromMemory() throws {
        let reader = try XMLStreamReader(bytes: Array("<a x=\"1\"><b>t</b></a>".utf8))
        var names: [String] = []
        while try reader.next() {
            if reader.nodeType == .element { names.append(reader.name) }
        }
        #expect(names == ["a", "b"])
    }
}

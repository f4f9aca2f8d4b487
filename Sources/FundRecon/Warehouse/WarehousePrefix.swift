/// The schema prefix of a persistent warehouse: its schemas are `<prefix>_oltp` ... `<prefix>_ads`.
package enum WarehousePrefix {
    /// The advisory-lock key space of persistent prefixes (the second key is `hashtext(prefix)`).
    package static let lockSpace: Int32 = 0x5244

    /// Checks a prefix: lower-case letters, digits and `_`, a letter first, short enough for
    /// `_oltp`, and none of FundRecon's own names (`rc_...` run schemas, `recon_meta`).
    package static func validate(_ prefix: String) throws {
        let bytes = Array(prefix.utf8)
        let ok = !bytes.isEmpty && bytes.count <= 40 && (bytes[0] >= 97 && bytes[0] <= 122)
            && bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
        guard ok, !prefix.hasPrefix("rc_"), prefix != RunHistory.schema else {
            throw BadValue("'\(prefix)' must be 1-40 lower-case letters, digits or _, a letter first, not rc_... or recon_meta")
        }
    }
}

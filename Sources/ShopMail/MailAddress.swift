import Foundation

/// A mailbox: an address and, optionally, the name shown for it.
///
/// The address must be plain ASCII `local@domain` with no blanks, controls
/// or angle brackets (it goes into SMTP commands and headers as it is);
/// the name may be any text and is encoded for headers as needed.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    public let address: String
    public let name: String?

    /// - Throws: ``SMTPError/invalidAddress(_:)`` for an address that is
    ///   not ASCII `local@domain` or could smuggle SMTP or header syntax.
    public init(_ address: String, name: String? = nil) throws(SMTPError) {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, address.utf8.count <= 254,
              SMTPDialogue.isSafeAddress(address), !address.contains(","), !address.contains("\"") else {
            throw .invalidAddress(address)
        }
        self.address = address
        let trimmed = name?.filter { !$0.isNewline && $0 != "\r" }.trimmingCharacters(in: .whitespaces)
        self.name = trimmed.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The domain part, for Message-ID.
    public var domain: String { String(address.split(separator: "@").last ?? "localhost") }

    /// As a header shows it: `"Ada Lovelace" <ada@example.com>`, an encoded
    /// word for a name that is not plain ASCII, or the bare address.
    public var header: String {
        guard let name else { return address }
        if MIMEEncoding.isPlainHeaderText(name) {
            let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(quoted)\" <\(address)>"
        }
        return "\(MIMEEncoding.encodedWords(name)) <\(address)>"
    }

    public var description: String { header }
}

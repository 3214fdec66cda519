/// One `host:port` a client can connect to: an endpoint of an ``RPCTarget``.
///
/// The host is a name or a numeric address; an IPv6 address is kept without
/// brackets (`::1`) and written with them (`[::1]:7001`).
public struct RPCAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// An address as given, unchecked: a client whose address is wrong fails
    /// its calls with UNAVAILABLE. Use ``init(parsing:)`` for text from
    /// configuration.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port` (or `[v6]:port`), checked: a non-empty host without
    /// spaces, commas or slashes, and a port in 1...65535.
    ///
    /// - Throws: ``RPCTarget/ParseError`` saying what is wrong with `text`.
    public init(parsing text: String) throws(RPCTarget.ParseError) {
        let entry = text.trimmingSpaces
        guard !entry.isEmpty else { throw .emptyAddress }
        let host: Substring
        let portText: Substring
        if entry.first == "[" {
            // [v6]:port
            guard let close = entry.firstIndex(of: "]") else { throw .malformedAddress(String(entry)) }
            host = entry[entry.index(after: entry.startIndex)..<close]
            let rest = entry[entry.index(after: close)...]
            guard rest.first == ":" else { throw .missingPort(String(entry)) }
            portText = rest.dropFirst()
        } else {
            guard let colon = entry.lastIndex(of: ":") else { throw .missingPort(String(entry)) }
            host = entry[..<colon]
            portText = entry[entry.index(after: colon)...]
            // An unbracketed IPv6 address is ambiguous (`::1:7001`).
            guard !host.contains(":") else { throw .malformedAddress(String(entry)) }
        }
        guard !host.isEmpty else { throw .missingHost(String(entry)) }
        guard host.allSatisfy({ !$0.isWhitespace && $0 != "," && $0 != "/" && $0 != "[" && $0 != "]" }) else {
            throw .malformedAddress(String(entry))
        }
        guard !portText.isEmpty else { throw .missingPort(String(entry)) }
        guard portText.allSatisfy(\.isASCII), let port = Int(portText), (1...65_535).contains(port) else {
            throw .badPort(String(entry))
        }
        self.init(host: String(host), port: port)
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension StringProtocol where SubSequence == Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        let text = self[...]
        guard let first = text.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = text.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return text[text.endIndex...] }
        return text[first...last]
    }
}

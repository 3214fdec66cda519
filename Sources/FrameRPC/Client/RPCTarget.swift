import Foundation

/// What a client talks to: a fixed list of addresses, or a DNS name whose
/// addresses are looked up again every
/// ``RPCClient/Configuration-swift.struct/dnsRefreshInterval``. Every
/// address is an endpoint; calls are balanced across them (``RPCClient``).
///
/// In configuration it is written
///
/// ```
/// 10.0.0.1:7001                  one address
/// 10.0.0.1:7001,10.0.0.2:7001    a list (spaces around commas allowed)
/// [::1]:7001                     an IPv6 address
/// dns://user.shop.svc:7001       every A and AAAA record of the name
/// ```
///
/// A host in a list may be a name too; it is then one endpoint, connected
/// to by name (the system picks one of its addresses per connection).
public enum RPCTarget: Sendable, Hashable, CustomStringConvertible {
    case addresses([RPCAddress])
    case dns(host: String, port: Int)

    /// One address.
    public static func address(host: String, port: Int) -> RPCTarget {
        .addresses([RPCAddress(host: host, port: port)])
    }

    /// A target from its configuration text (see the type's forms).
    ///
    /// - Throws: ``ParseError`` saying what is wrong; never traps, whatever
    ///   the input.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else { throw .empty }
        if let schemeEnd = trimmed.range(of: "://") {
            let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "dns" else { throw .unknownScheme(String(scheme)) }
            let rest = trimmed[schemeEnd.upperBound...]
            guard !rest.contains(",") else { throw .dnsList(String(trimmed)) }
            guard !rest.contains("/") else { throw .malformedAddress(String(rest)) }
            let address = try RPCAddress(parsing: String(rest))
            self = .dns(host: address.host, port: address.port)
            return
        }
        var addresses: [RPCAddress] = []
        for entry in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let address = try RPCAddress(parsing: String(entry))
            guard !addresses.contains(address) else { throw .duplicate(address.description) }
            addresses.append(address)
        }
        self = .addresses(addresses)
    }

    /// The configuration text: parsing it gives this target back.
    public var description: String {
        switch self {
        case .addresses(let addresses):
            addresses.map(\.description).joined(separator: ",")
        case .dns(let host, let port):
            "dns://\(RPCAddress(host: host, port: port))"
        }
    }

    /// Why a target's text was refused; ``description`` says it for humans.
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Nothing at all.
        case empty
        /// An empty entry in a list (`a:1,,b:2`).
        case emptyAddress
        /// An entry without a host (`:7001`).
        case missingHost(String)
        /// An entry without `:port`.
        case missingPort(String)
        /// A port that is not a number in 1...65535.
        case badPort(String)
        /// A host with spaces, slashes or an unbracketed IPv6 address.
        case malformedAddress(String)
        /// The same address twice in a list.
        case duplicate(String)
        /// A scheme other than `dns://`.
        case unknownScheme(String)
        /// `dns://` with more than one name.
        case dnsList(String)

        public var description: String {
            switch self {
            case .empty: "no address given"
            case .emptyAddress: "an empty entry in the address list"
            case .missingHost(let entry): "'\(entry.prefix(64))' has no host (expected HOST:PORT)"
            case .missingPort(let entry): "'\(entry.prefix(64))' has no port (expected HOST:PORT)"
            case .badPort(let entry): "'\(entry.prefix(64))' has a port that is not a number between 1 and 65535"
            case .malformedAddress(let entry): "'\(entry.prefix(64))' is not HOST:PORT (IPv6 addresses go in brackets: [::1]:7001)"
            case .duplicate(let entry): "'\(entry.prefix(64))' is listed twice"
            case .unknownScheme(let scheme): "unknown scheme '\(scheme.prefix(16))://' (expected HOST:PORT, a comma-separated list, or dns://NAME:PORT)"
            case .dnsList(let entry): "'\(entry.prefix(64))': dns:// takes one NAME:PORT"
            }
        }
    }
}

import CompressNIO

/// The content codings the gateway speaks: `gzip` and `deflate` (the zlib
/// format, as HTTP's "deflate" means).
enum ContentCoding: String, CaseIterable, Sendable {
    case gzip
    case deflate

    var algorithm: CompressionAlgorithm {
        switch self {
        case .gzip: .gzip()
        case .deflate: .zlib()
        }
    }

    /// The coding to answer with for an `Accept-Encoding` value: gzip before
    /// deflate, each only when listed with a non-zero `q` (a `*` counts for
    /// both); `nil` for identity.
    static func preferred(byAcceptEncoding header: String) -> ContentCoding? {
        var weights: [String: Double] = [:]
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
            guard let name = parts.first?.lowercased(), !name.isEmpty else { continue }
            var weight = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                weight = Double(parameter.dropFirst(2)) ?? 0
            }
            weights[name] = weight
        }
        for coding in allCases {
            if let weight = weights[coding.rawValue] ?? weights["*"], weight > 0 { return coding }
        }
        return nil
    }
}

extension Substring {
    func trimmingCharacters(in characters: String) -> String {
        var text = self
        while let first = text.first, characters.contains(first) { text = text.dropFirst() }
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}

import Foundation

/// Reads a Prometheus text exposition, for tests that count series.
struct Exposition {
    let text: String

    init(_ text: String) { self.text = text }

    /// The value of the sample `name` whose labels include all of `labels`
    /// (summed when several match); `nil` when none does.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        var total: Double?
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            var sampleName = series
            var sampleLabels: [String: String] = [:]
            if let brace = series.firstIndex(of: "{") {
                sampleName = series[..<brace]
                let inner = series[series.index(after: brace)..<(series.lastIndex(of: "}") ?? series.endIndex)]
                for pair in inner.split(separator: ",") {
                    guard let equals = pair.firstIndex(of: "=") else { continue }
                    sampleLabels[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
                        .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }
            guard sampleName == name, labels.allSatisfy({ sampleLabels[$0.key] == $0.value }) else { continue }
            total = (total ?? 0) + value
        }
        return total
    }
}

/// `GET path` on 127.0.0.1:`port` over a fresh connection, read to its end:
/// for HTTP endpoints that are not the gateway (a service's metrics port).
func fetch(port: Int, path: String) async throws -> (status: Int, headers: [String: String], body: String) {
    try await onOwnThread {
        let connection = try StreamingHTTPConnection(port: port)
        defer { connection.hangUp() }
        try connection.sendRequest(path: path, headers: ["Connection": "close"])
        let head = try connection.readHead()
        var body = ""
        while let piece = try connection.read(through: "\n") { body += piece }
        return (head.status, head.headers, body)
    }
}

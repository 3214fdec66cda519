import Foundation

/// A Prometheus text exposition read back, for tests that count series.
public struct PrometheusText: Sendable {
    public let text: String

    public init(_ text: String) { self.text = text }

    public init(_ bytes: [UInt8]) { self.init(String(decoding: bytes, as: UTF8.self)) }

    /// The value of the sample `name` whose labels include all of `labels`
    /// (summed when several match); `nil` when none does.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
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

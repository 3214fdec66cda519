/// One measured point: what the client child saw, plus the server child's
/// and the machine's CPU over the same window.
struct Row: Codable, Sendable {
    let point: Point
    let calls: Int
    let errors: Int
    let callsPerSecond: Double
    let latency: Percentiles?
    let clientCPUMicrosPerCall: Double?
    let serverCPUMicrosPerCall: Double?
    let clientPeakRSSBytes: Int64?
    let serverPeakRSSBytes: Int64?
    /// Processors' worth of CPU used by everything else on the machine
    /// during the window (other processes, the hypervisor's steal): how
    /// disturbed the point was.
    let otherProcessors: Double?
    /// Why the point has no figures, or why some calls failed.
    let failure: String?

    var cpuMicrosPerCall: Double? {
        guard let client = clientCPUMicrosPerCall, let server = serverCPUMicrosPerCall else { return nil }
        return client + server
    }

    static func failed(_ point: Point, _ reason: String) -> Row {
        Row(
            point: point, calls: 0, errors: 0, callsPerSecond: 0, latency: nil,
            clientCPUMicrosPerCall: nil, serverCPUMicrosPerCall: nil,
            clientPeakRSSBytes: nil, serverPeakRSSBytes: nil, otherProcessors: nil, failure: reason
        )
    }
}

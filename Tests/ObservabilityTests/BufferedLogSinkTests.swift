import Logging
import ServiceLifecycle
import ShopObservability
import Synchronization
import Testing

/// A target that splits what it is given into lines: the buffered sink
/// hands it many lines per call.
private final class LineCollector: LogSink {
    private let storage = Mutex<[String]>([])

    func write(_ bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        storage.withLock { $0.append(contentsOf: lines) }
    }

    var lines: [String] { storage.withLock { $0 } }
}

/// The buffered sink the processes log through: lines leave the request
/// path, arrive whole and in order, are dropped (and counted) rather than
/// waited for when the buffer is full, and are all written on shutdown.
@Suite("Buffered log sink")
struct BufferedLogSinkTests {
    private static func line(_ text: String) -> [UInt8] { Array("\(text)\n".utf8) }

    /// Waits (hang bound: 10 s) until `condition` holds.
    private static func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Writes probe lines until one stays in the buffer instead of going
    /// straight to `target`: then the writer task runs. Returns how many
    /// probes were written (all of them reach the target eventually).
    private static func waitUntilBuffering(_ sink: BufferedLogSink, target: LineCollector) async throws -> Int {
        var probes = 0
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let before = target.lines.count
            probes += 1
            sink.write(line("probe"))
            if target.lines.count == before { return probes }
            try await Task.sleep(for: .milliseconds(2))
        }
        Issue.record("the writer never started")
        return probes
    }

    @Test("lines written while the writer runs reach the target, in order")
    func linesArrive() async throws {
        let target = LineCollector()
        let sink = BufferedLogSink(target: target, metrics: MetricsRegistry())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await sink.run() }
            let probes = try await Self.waitUntilBuffering(sink, target: target)
            for index in 0..<200 { sink.write(Self.line("line \(index)")) }
            try await Self.eventually { target.lines.count == probes + 200 }
            #expect(Array(target.lines.dropFirst(probes)) == (0..<200).map { "line \($0)" })
            group.cancelAll()
        }
    }

    @Test("lines from concurrent tasks stay whole and in order per task")
    func orderPerTask() async throws {
        let target = LineCollector()
        let sink = BufferedLogSink(target: target, metrics: MetricsRegistry())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await sink.run() }
            let probes = try await Self.waitUntilBuffering(sink, target: target)
            await withTaskGroup(of: Void.self) { writers in
                for task in 0..<4 {
                    writers.addTask {
                        for index in 0..<500 { sink.write(Self.line("task \(task) line \(index)")) }
                    }
                }
            }
            try await Self.eventually { target.lines.count == probes + 2_000 }
            let lines = target.lines.dropFirst(probes)
            #expect(lines.count == 2_000)
            for task in 0..<4 {
                let mine = lines.filter { $0.hasPrefix("task \(task) ") }
                #expect(mine == (0..<500).map { "task \(task) line \($0)" })
            }
            group.cancelAll()
        }
    }

    @Test("a line that does not fit the full buffer is dropped and counted, not waited for")
    func dropsCounted() async throws {
        let target = LineCollector()
        let metrics = MetricsRegistry()
        // Lines gather for a minute: nothing drains the buffer while the test fills it.
        let sink = BufferedLogSink(target: target, capacity: 64, gatherInterval: .seconds(60), metrics: metrics)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await sink.run() }
            let probes = try await Self.waitUntilBuffering(sink, target: target)
            // "probe\n" is 6 bytes; 64 - 6 leaves room for one 40-byte line.
            let long = String(repeating: "x", count: 39)
            sink.write(Self.line(long))
            sink.write(Self.line(long))
            sink.write(Self.line(long))
            #expect(sink.droppedLines == 2)
            let exposition = String(decoding: metrics.exposition(), as: UTF8.self)
            #expect(exposition.contains("shop_log_lines_dropped_total 2"))
            group.cancelAll()
            try await group.waitForAll()
            #expect(target.lines == Array(repeating: "probe", count: probes) + [long])
        }
    }

    @Test("graceful shutdown writes every buffered line before the writer stops")
    func flushedOnShutdown() async throws {
        let target = LineCollector()
        // Without shutdown, nothing would be written for a minute.
        let sink = BufferedLogSink(target: target, gatherInterval: .seconds(60), metrics: MetricsRegistry())
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: sink)],
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        ))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let probes = try await Self.waitUntilBuffering(sink, target: target)
            for index in 0..<50 { sink.write(Self.line("last \(index)")) }
            #expect(target.lines.count < probes + 50)
            let started = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(Array(target.lines.suffix(50)) == (0..<50).map { "last \($0)" })
        }
    }

    @Test("before the writer runs, a line goes straight to the target")
    func directBeforeRun() {
        let target = LineCollector()
        let sink = BufferedLogSink(target: target, metrics: MetricsRegistry())
        sink.write(Self.line("starting"))
        #expect(target.lines == ["starting"])
    }
}

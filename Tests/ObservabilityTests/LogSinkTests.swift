#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ShopObservability
import Testing

/// Where log lines go in a real process: a file descriptor.
@Suite("Log sinks")
struct LogSinkTests {
    @Test("the file descriptor sink writes each line whole, in order")
    func fileDescriptorSink() throws {
        var descriptors: [Int32] = [0, 0]
        try #require(pipe(&descriptors) == 0)
        defer { close(descriptors[0]) }
        let sink = FileDescriptorLogSink(fileDescriptor: descriptors[1])
        sink.write(Array("{\"n\":1}\n".utf8))
        sink.write(Array("{\"n\":2}\n".utf8))
        close(descriptors[1])
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptors[0], $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"n\":1}\n{\"n\":2}\n")
    }
}

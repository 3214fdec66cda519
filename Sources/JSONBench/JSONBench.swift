import Foundation
import NIOCore
import RESTTranscoding
import ShopAPI

/// `json-bench`: what a hostile 1 MiB request body costs the gateway.
///
/// For each worst-case shape (one object of 100,000 keys, one key repeated,
/// a flat array of numbers, empty objects, deep nesting, escapes, one long
/// string, whitespace) it builds a 1 MiB document and prints the median CPU
/// time (of the thread, so other load does not count) per MiB, in this one
/// run, of:
/// - `gateway`: the whole request path of `POST /api/auth/login`
///   (the route's generated ``RESTRoute/prepare``: parsed with the
///   standard limits, over-limit documents refused early, then the typed
///   request filled);
/// - `parser, no limits`: ``JSONParser`` parsing the whole document
///   (``JSONParser/Limits/trusted``), the algorithm's own cost;
/// - `JSONSerialization`: Foundation's parser on the same bytes, the
///   reference.
///
/// ```sh
/// swift build -c release --product json-bench && .build/release/json-bench --iterations 20
/// ```
@main
struct JSONBench {
    static let mebibyte = 1 << 20

    static func main() throws {
        var iterations = 15
        let arguments = CommandLine.arguments
        if let flag = arguments.firstIndex(of: "--iterations"), flag + 1 < arguments.count, let count = Int(arguments[flag + 1]), count > 0 {
            iterations = count
        }
        guard let login = ShopRoutes.routes.first(where: { $0.method.hasSuffix("/Login") }) else {
            fatalError("no login route in the route table")
        }

        print("JSON CPU time per MiB, median of \(iterations) runs (ms); gateway = POST /api/auth/login transcoding with limits")
        print(pad("shape", 26) + pad("gateway", 20) + pad("parser, no limits", 20) + pad("JSONSerialization", 20))
        for (name, document) in shapes() {
            let scale = Double(mebibyte) / Double(document.count)
            let gateway = median(iterations) {
                let outcome: String
                do {
                    _ = try login.prepare(RESTRequestInput(body: ByteBuffer(bytes: document)))
                    outcome = "ok"
                } catch {
                    outcome = "\((error as? TranscodingError)?.httpStatus ?? 0)"
                }
                return outcome
            }
            let parser = median(iterations) {
                (try? JSONParser.parse(document, limits: .trusted)) == nil ? "error" : "ok"
            }
            let data = Data(document)
            let foundation = median(iterations) {
                (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) == nil ? "error" : "ok"
            }
            print(
                pad(name, 26)
                    + pad(format(gateway.seconds * scale) + " (\(gateway.outcome))", 20)
                    + pad(format(parser.seconds * scale) + " (\(parser.outcome))", 20)
                    + pad(format(foundation.seconds * scale) + " (\(foundation.outcome))", 20)
            )
        }
        try typicalBodies(iterations: iterations)
    }

    /// What an ordinary request body costs its route's ``RESTRoute/prepare``
    /// (body read into the typed request message): CPU time per request,
    /// median over `iterations` runs of 10,000 requests each.
    static func typicalBodies(iterations: Int) throws {
        let bodies: [(route: String, method: String, body: String)] = [
            (
                "POST /api/orders (3 items)", "/CreateOrder",
                #"{"items":[{"product_id":"0d7f3a9c-2b64-4f18-8e3a-91c5d4b7a026","quantity":3},{"product_id":"1e8f4b0d-3c75-4f29-9f4b-a2d6e5c8b137","quantity":1},{"product_id":"2f905c1e-4d86-4a3a-8a5c-b3e7f6d9c248","quantity":12}]}"#
            ),
            (
                "POST /api/products", "/CreateProduct",
                #"{"name":"Teapot","description":"Short and stout, with a handle and a spout","price":19.99,"category":"kitchen"}"#
            ),
        ]
        let requests = 10_000
        print("")
        print("Typical bodies: CPU time per request of the route's prepare, median of \(iterations) runs of \(requests) (µs)")
        for entry in bodies {
            guard let route = ShopRoutes.routes.first(where: { $0.method.hasSuffix(entry.method) }) else {
                fatalError("no \(entry.method) route in the route table")
            }
            let body = ByteBuffer(string: entry.body)
            let timing = median(iterations) {
                var outcome = "ok"
                for _ in 0..<requests {
                    do {
                        _ = try route.prepare(RESTRequestInput(body: body))
                    } catch {
                        outcome = "\((error as? TranscodingError)?.httpStatus ?? 0)"
                    }
                }
                return outcome
            }
            print(pad(entry.route, 30) + format(timing.seconds * 1000 / Double(requests)) + " (\(timing.outcome))")
        }
    }

    /// Each shape as a document of about 1 MiB (never more).
    static func shapes() -> [(String, [UInt8])] {
        func repeated(open: String, item: (Int) -> String, separator: String = ",", close: String) -> [UInt8] {
            var text = open
            var index = 0
            while true {
                let next = (index == 0 ? "" : separator) + item(index)
                guard text.utf8.count + next.utf8.count + close.utf8.count <= mebibyte else { break }
                text += next
                index += 1
            }
            return Array((text + close).utf8)
        }
        let nested = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        return [
            ("object, distinct keys", repeated(open: "{", item: { #""k\#($0)":0"# }, close: "}")),
            ("object, one key repeated", repeated(open: "{", item: { _ in #""email":0"# }, close: "}")),
            ("array of numbers", repeated(open: "[", item: { _ in "0" }, close: "]")),
            ("array of empty objects", repeated(open: "[", item: { _ in "{}" }, close: "]")),
            ("nesting 60 deep, repeated", repeated(open: "[", item: { _ in nested }, close: "]")),
            ("string of \\u escapes", repeated(open: #"{"email":""#, item: { _ in #"\u00e9"# }, separator: "", close: #""}"#)),
            ("one long string", repeated(open: #"{"email":""#, item: { _ in "a" }, separator: "", close: #""}"#)),
            ("whitespace", Array(("{" + String(repeating: " ", count: mebibyte - 2) + "}").utf8)),
        ]
    }

    /// The median CPU time of this thread over `runs` runs of `work`, and
    /// what the last run said. CPU time, not wall time, so that other load
    /// on the machine does not count.
    static func median(_ runs: Int, _ work: () -> String) -> (seconds: Double, outcome: String) {
        var times: [Double] = []
        var outcome = ""
        for _ in 0..<runs {
            let start = threadCPUSeconds()
            outcome = work()
            times.append(threadCPUSeconds() - start)
        }
        times.sort()
        return (times[times.count / 2], outcome)
    }

    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func format(_ seconds: Double) -> String {
        String(format: "%.2f", seconds * 1000)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

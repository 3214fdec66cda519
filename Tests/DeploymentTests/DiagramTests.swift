import Foundation
import Testing

/// The README's pictures of the system, checked against the code: the
/// process diagram's edges are exactly who calls whom (the gateway's route
/// table, each service's `client(for:)` calls), and every call drawn in the
/// order sequence is a real RPC of the service it is drawn to.
@Suite("README diagrams")
struct DiagramTests {
    /// The text of each ```` ```mermaid ```` block of the README that starts
    /// with `kind`.
    static func mermaidBlocks(_ kind: String) throws -> [String] {
        let readme = try Repository.text("README.md")
        return readme.components(separatedBy: "```mermaid\n").dropFirst().compactMap { rest in
            guard let block = rest.components(separatedBy: "\n```").first,
                  block.trimmingCharacters(in: .whitespaces).hasPrefix(kind) else { return nil }
            return block
        }
    }

    /// `from -> to` edges between processes of the flowchart (`a --> b` or
    /// `a -->|label| b`, nodes by id).
    static func flowchartEdges() throws -> Set<String> {
        let block = try #require(try mermaidBlocks("flowchart").first, "the README has no mermaid flowchart")
        var edges: Set<String> = []
        for line in block.split(separator: "\n") {
            guard let match = line.firstMatch(of: /^\s*([a-z]+)(?:\[[^\]]*\]|\([^)]*\))?\s*-->(?:\|[^|]*\|)?\s*([a-z]+)/) else { continue }
            edges.insert("\(match.1) -> \(match.2)")
        }
        return edges
    }

    /// What the code says: the gateway calls every service of its route
    /// table; a service calls those it builds clients for.
    static func callsInCode() throws -> Set<String> {
        var edges = Set(CodeFacts.gatewayUpstreams.map { "gateway -> \($0)" })
        for service in try CodeFacts.services() {
            for upstream in try CodeFacts.upstreams(of: service) {
                edges.insert("\(service.name) -> \(upstream)")
            }
        }
        return edges
    }

    @Test func theProcessDiagramDrawsExactlyTheCallsTheCodeMakes() throws {
        let processes = Set(try CodeFacts.services().map(\.name) + ["gateway"])
        let drawn = try Self.flowchartEdges().filter { edge in
            let ends = edge.components(separatedBy: " -> ")
            return processes.contains(ends[0]) && processes.contains(ends[1])
        }
        #expect(drawn == (try Self.callsInCode()), "README flowchart edges differ from the code's calls")
    }

    @Test func everyCallInTheOrderSequenceIsAnRPCOfItsService() throws {
        let block = try #require(try Self.mermaidBlocks("sequenceDiagram").first, "the README has no mermaid sequence diagram")
        var participants: [String: String] = [:]
        for line in block.split(separator: "\n") {
            if let match = line.firstMatch(of: /^\s*participant\s+([A-Za-z]+)\s+as\s+([a-z]+)/) {
                participants[String(match.1)] = String(match.2)
            }
        }
        let services = Set(try CodeFacts.services().map(\.name))
        var checked = 0
        for line in block.split(separator: "\n") {
            guard let match = line.firstMatch(of: /^\s*([A-Za-z]+)\s*-[->]+[+-]?\s*([A-Za-z]+)\s*:\s*([A-Z][A-Za-z]+)/) else { continue }
            guard let caller = participants[String(match.1)], let callee = participants[String(match.2)],
                  services.contains(callee) else { continue }
            let proto = try Repository.text("proto/shop/\(callee)/v1/\(callee).proto")
            #expect(proto.contains("rpc \(match.3)("), "\(caller) calls \(callee).\(match.3), which \(callee).proto does not declare")
            #expect(try Self.callsInCode().contains("\(caller) -> \(callee)"), "the sequence draws \(caller) calling \(callee), which the code never does")
            checked += 1
        }
        #expect(checked >= 5, "the order sequence draws only \(checked) calls between services")
    }
}

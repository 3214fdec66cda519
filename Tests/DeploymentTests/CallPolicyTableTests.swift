import FrameRPC
import Foundation
import ShopAPI
import Testing

/// The README's "Who may call what" table is copied from the protos; this
/// keeps the copy true: every RPC of the five services appears once, with
/// exactly the callers its generated policy allows.
@Suite("The README's call policy table")
struct CallPolicyTableTests {
    /// Every generated policy, by wire name.
    static let generated: [String: CallerPolicy] = [
        UserServicePolicy.byMethod, ProductServicePolicy.byMethod, InventoryServicePolicy.byMethod,
        OrderServicePolicy.byMethod, NotificationServicePolicy.byMethod,
    ].reduce(into: [:]) { all, table in all.merge(table) { first, _ in first } }

    /// `/shop.user.v1.UserService/GetUser` -> `user GetUser`.
    static func key(ofWireName method: String) -> String {
        let parts = method.split(separator: "/")
        let package = parts[0].split(separator: ".")
        return "\(package[1]) \(parts[1])"
    }

    /// The README table's rows as `service RPC` -> callers, one per RPC.
    static func readmeRows() throws -> [String: [String]] {
        let readme = try Repository.text("README.md")
        guard let start = readme.range(of: "### Who may call what") else {
            throw RepositoryError("README.md has no 'Who may call what' section")
        }
        let section = readme[start.upperBound...]
        var rows: [String: [String]] = [:]
        var inTable = false
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("### ") { break }
            guard line.hasPrefix("|") else {
                if inTable { break } else { continue }
            }
            inTable = true
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3, cells[0] != "service", !cells[0].hasPrefix("---"), cells[0] != "every service" else { continue }
            for rpc in cells[1].split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                let key = "\(cells[0]) \(rpc)"
                #expect(rows[key] == nil, "\(key) appears twice in the README table")
                rows[key] = cells[2].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
            }
        }
        return rows
    }

    @Test func listsEveryRPCWithTheCallersItsProtoAllows() throws {
        let readme = try Self.readmeRows()
        let expected = Dictionary(uniqueKeysWithValues: Self.generated.map { (Self.key(ofWireName: $0.key), $0.value.allowedServices) })
        #expect(!expected.isEmpty)
        #expect(Set(readme.keys) == Set(expected.keys), "README rows \(readme.keys.sorted()) vs generated \(expected.keys.sorted())")
        for (rpc, callers) in expected {
            #expect(readme[rpc] == callers, "\(rpc): README says \(readme[rpc] ?? []), the proto \(callers)")
        }
    }

    @Test func internalRPCsAreTheOrderServicesAlone() {
        for method in [InventoryServiceMethod.reserve, InventoryServiceMethod.commit, InventoryServiceMethod.release, NotificationServiceMethod.notify] {
            #expect(Self.generated[method]?.allowedServices == ["order"], "\(method)")
        }
        #expect(Self.generated[ProductServiceMethod.batchGetProducts]?.allowedServices == ["gateway", "order"])
        #expect(Self.generated[UserServiceMethod.getAccountStatus]?.allowedServices == ["gateway"])
    }
}

import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("ProductService.ListProducts")
struct ListProductsTests {
    @Test("an empty catalog lists nothing")
    func emptyCatalog() async throws {
        try await withProductService { client throws in
            #expect(try await client.list().isEmpty)
        }
    }

    @Test("products are listed in creation order")
    func creationOrder() async throws {
        try await withProductService { client throws in
            var created: [Shop_Product_V1_Product] = []
            for name in ["Zebra", "Apple", "Mango", "Banana"] {
                created.append(try await client.create(name))
            }
            #expect(try await client.list() == created)
        }
    }

    @Test("skip and limit select a page; a page past the end is empty")
    func pages() async throws {
        try await withProductService { client throws in
            var names: [String] = []
            for index in 0..<7 {
                names.append(try await client.create("P\(index)").name)
            }
            #expect(try await client.list(skip: 0, limit: 3).map(\.name) == ["P0", "P1", "P2"])
            #expect(try await client.list(skip: 3, limit: 3).map(\.name) == ["P3", "P4", "P5"])
            #expect(try await client.list(skip: 6, limit: 3).map(\.name) == ["P6"])
            #expect(try await client.list(skip: 7, limit: 3).isEmpty)
            #expect(try await client.list(skip: 100).isEmpty)
            #expect(try await client.list(skip: 0, limit: 1_000).map(\.name) == names)
        }
    }

    @Test("limit 0 means the default page of 100")
    func defaultLimit() async throws {
        try await withProductService { client throws in
            for index in 0..<101 {
                try await client.create("P\(index)")
            }
            let page = try await client.list()
            #expect(page.count == 100)
            #expect(page.first?.name == "P0")
            #expect(page.last?.name == "P99")
            #expect(try await client.list(skip: 100).map(\.name) == ["P100"])
        }
    }

    @Test("a limit over 1000 is INVALID_ARGUMENT naming limit; a negative skip names skip")
    func badPage() async throws {
        try await withProductService { client throws in
            let tooMany = await rpcError { _ = try await client.list(limit: 1_001) }
            #expect(tooMany?.code == .invalidArgument)
            #expect(tooMany?.message.hasPrefix("limit:") == true)
            let negativeLimit = await rpcError { _ = try await client.list(limit: -1) }
            #expect(negativeLimit?.code == .invalidArgument)
            #expect(negativeLimit?.message.hasPrefix("limit:") == true)
            let negativeSkip = await rpcError { _ = try await client.list(skip: -1) }
            #expect(negativeSkip?.code == .invalidArgument)
            #expect(negativeSkip?.message.hasPrefix("skip:") == true)
        }
    }

    @Test("a category keeps only that category, in creation order, and pages within it")
    func categoryFilter() async throws {
        try await withProductService { client throws in
            let cup = try await client.create("Cup", category: "kitchen")
            try await client.create("Shirt", category: "clothes")
            let pan = try await client.create("Pan", category: "kitchen")
            try await client.create("Loose")
            let knife = try await client.create("Knife", category: "kitchen")
            #expect(try await client.list(category: "kitchen") == [cup, pan, knife])
            #expect(try await client.list(skip: 1, limit: 1, category: "kitchen") == [pan])
            #expect(try await client.list(category: "garden").isEmpty)
            #expect(try await client.list().count == 5)
        }
    }

    @Test("listing is open to a plain user")
    func listAsUser() async throws {
        try await withProductService { client throws in
            let cup = try await client.create("Cup")
            #expect(try await client.listProducts(.init(), options: try await asUser(Validation.newID())).products == [cup])
        }
    }

    @Test("page tokens walk the catalog over TCP: each product once, in order, with products added meanwhile")
    func tokenWalk() async throws {
        try await withProductService { client throws in
            var created: [String] = []
            for index in 0..<11 { created.append(try await client.create("P\(index)").id) }
            var seen: [String] = []
            var token = ""
            var pages = 0
            repeat {
                let page = try await client.listProducts(.with { $0.pageSize = 4; $0.pageToken = token })
                seen += page.products.map(\.id)
                token = page.nextPageToken
                pages += 1
                if pages == 1 { created.append(try await client.create("Late").id) }
            } while !token.isEmpty && pages < 50
            #expect(seen == created)
            #expect(pages == 3)
        }
    }

    @Test("a page token with a changed byte, or sent with skip, is INVALID_ARGUMENT naming the field")
    func badToken() async throws {
        try await withProductService { client throws in
            for index in 0..<3 { try await client.create("P\(index)") }
            let token = try await client.listProducts(.with { $0.pageSize = 1 }).nextPageToken
            #expect(!token.isEmpty)
            var bytes = Array(token.utf8)
            bytes[2] = bytes[2] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
            let tampered = String(decoding: bytes, as: UTF8.self)
            let changed = await rpcError { _ = try await client.listProducts(.with { $0.pageSize = 1; $0.pageToken = tampered }) }
            #expect(changed?.code == .invalidArgument)
            #expect(changed?.message.hasPrefix("page_token:") == true)
            let withSkip = await rpcError { _ = try await client.listProducts(.with { $0.skip = 1; $0.pageToken = token }) }
            #expect(withSkip?.code == .invalidArgument)
            #expect(withSkip?.message.hasPrefix("skip:") == true)
            let tooBig = await rpcError { _ = try await client.listProducts(.with { $0.pageSize = 1_001 }) }
            #expect(tooBig?.message.hasPrefix("page_size:") == true)
        }
    }
}

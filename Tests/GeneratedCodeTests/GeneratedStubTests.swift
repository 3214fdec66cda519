import FrameRPC
import Foundation
import SwiftProtobuf
import Testing

@Suite("Generated client and handler")
struct GeneratedStubTests {
    @Test("a typed unary call round-trips through the generated client and handler")
    func unaryRoundTrip() async throws {
        try await withLibrary { _, rpc throws in
            let library = LibraryClient(rpc)
            let created = try await library.createBook(.with {
                $0.book = .with { $0.title = "Dune"; $0.genre = .fiction; $0.price = 1999 }
            })
            let fetched = try await library.getBook(.with { $0.id = created.id })
            #expect(fetched == created)
            #expect(fetched.price == 1999)
        }
    }

    @Test("a status thrown by the handler reaches the typed client")
    func statusReachesClient() async throws {
        try await withLibrary { _, rpc throws in
            do {
                _ = try await LibraryClient(rpc).getBook(.with { $0.id = "missing" })
                Issue.record("expected NOT_FOUND")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
            }
        }
    }

    @Test("a server-streaming method streams through the generated client")
    func serverStreaming() async throws {
        try await withLibrary { _, rpc throws in
            let library = LibraryClient(rpc)
            let book = try await library.createBook(.with { $0.book = .with { $0.title = "Emma" } })
            let sold = try await library.watchBook(.with { $0.id = book.id; $0.updates = 3 }) { stream in
                try await stream.reduce(into: [Int64]()) { $0.append($1.copiesSold) }
            }
            #expect(sold == [0, 1, 2, 3])
        }
    }

    @Test("a method's default deadline applies when the caller gives none")
    func defaultDeadline() async throws {
        try await withLibrary { service, rpc throws in
            let library = LibraryClient(rpc)
            _ = try await library.createBook(.with { $0.book = .with { $0.title = "Ulysses" } })
            _ = try await library.ping(.with { $0.id = "x" })
            let seen = service.deadlines.withLock { $0 }
            #expect(seen[LibraryMethod.createBook] == true)
            #expect(seen[LibraryMethod.ping] == false)
        }
    }

    @Test("the generated health client talks to every FrameRPC server")
    func healthClient() async throws {
        try await withLibrary { _, rpc throws in
            let status = try await HealthClient(rpc).check(.with { $0.service = LibraryMethod.serviceName }).status
            #expect(status == .serving)
        }
    }
}

import FrameRPC
import Foundation
import SwiftProtobuf
import Synchronization

typealias Book = Demo_Library_V1_Book

/// The demo service, implemented through the generated handler protocol
/// with an in-memory store.
final class LibraryService: LibraryHandler {
    private let books = Mutex<[String: Book]>([:])
    /// Whether each call arrived with a deadline, by method name.
    let deadlines = Mutex<[String: Bool]>([:])

    private func record(_ context: ServerContext) {
        deadlines.withLock { $0[context.method] = context.deadline != nil }
    }

    func createBook(_ request: Demo_Library_V1_CreateBookRequest, context: ServerContext) async throws -> Book {
        record(context)
        guard !request.book.title.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "title must not be empty")
        }
        var book = request.book
        book.id = UUID().uuidString.lowercased()
        books.withLock { $0[book.id] = book }
        return book
    }

    func getBook(_ request: Demo_Library_V1_GetBookRequest, context: ServerContext) async throws -> Book {
        record(context)
        guard let book = books.withLock({ $0[request.id] }) else {
            throw RPCError(code: .notFound, message: "no book \(request.id)")
        }
        return book
    }

    func listBooks(_ request: Demo_Library_V1_ListBooksRequest, context: ServerContext) async throws -> Demo_Library_V1_ListBooksResponse {
        let all = books.withLock { Array($0.values) }.sorted { $0.title < $1.title }
        let matching = all.filter { request.genre == .unspecified || $0.genre == request.genre }
        return .with { $0.books = Array(matching.dropFirst(Int(request.skip)).prefix(request.limit == 0 ? 100 : Int(request.limit))) }
    }

    func renameBook(_ request: Demo_Library_V1_RenameBookRequest, context: ServerContext) async throws -> Book {
        try books.withLock { books in
            guard var book = books[request.id] else { throw RPCError(code: .notFound, message: "no book \(request.id)") }
            book.title = request.title
            books[request.id] = book
            return book
        }
    }

    func deleteBook(_ request: Demo_Library_V1_DeleteBookRequest, context: ServerContext) async throws -> Demo_Library_V1_DeleteBookResponse {
        books.withLock { _ = $0.removeValue(forKey: request.id) }
        return .init()
    }

    func watchBook(_ request: Demo_Library_V1_WatchBookRequest, writer: RPCWriter<Book>, context: ServerContext) async throws {
        var book = try await getBook(.with { $0.id = request.id }, context: context)
        try await writer.write(book)
        for update in 0..<request.updates {
            book.copiesSold += 1
            book.title = "\(book.title) (\(update + 1))"
            try await writer.write(book)
        }
    }

    func ping(_ request: Demo_Library_V1_GetBookRequest, context: ServerContext) async throws -> Demo_Library_V1_GetBookRequest {
        record(context)
        return request
    }
}

/// Runs the library on an ephemeral port for the duration of `body`.
func withLibrary<Result: Sendable>(
    _ body: (LibraryService, RPCClient) async throws -> Result
) async throws -> Result {
    let library = LibraryService()
    let server = RPCServer(services: [library])
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let client = RPCClient(host: "127.0.0.1", port: try await server.port)
        defer {
            client.shutdown()
            group.cancelAll()
        }
        return try await body(library, client)
    }
}

import Foundation
@testable import Gateway
import RESTTranscoding
import ServiceTesting
import Testing

/// Issue 11, item 3: password guessing, and logins enough to fill the user
/// service's hashing queue.
@Suite("Login brute force and hashing load over HTTP")
struct LoginAbuseTests {
    static func loginBody(_ email: String, _ password: String) -> String {
        #"{"email":"\#(email)","password":"\#(password)"}"#
    }

    @Test("guesses at one account get 429 with Retry-After once its bucket is empty; other accounts still log in")
    func perAccount() async throws {
        try await withShop({ $0.loginAccountBurst = 3; $0.loginAccountPerMinute = 1 }) { http throws in
            let victim = try await http.register()
            let bystander = try await http.register()
            var statuses: [Int] = []
            for guess in 0..<5 {
                statuses.append(try await http.post("/api/auth/login", json: Self.loginBody(victim.email, "wrong-guess-\(guess)")).status)
            }
            #expect(statuses == [401, 401, 401, 429, 429])
            // The same account under another spelling is the same bucket.
            let respelled = try await http.post("/api/auth/login", json: Self.loginBody(" " + victim.email.uppercased(), Shop.password))
            #expect(respelled.status == 429)
            #expect(respelled.code == "RESOURCE_EXHAUSTED")
            #expect(Int(respelled.header("Retry-After") ?? "") ?? 0 >= 30)
            _ = try await http.login(bystander.email)
        }
    }

    @Test("a successful login does not count against its account")
    func successIsFree() async throws {
        try await withShop({ $0.loginAccountBurst = 2; $0.loginAccountPerMinute = 1 }) { http throws in
            let user = try await http.register()
            for _ in 0..<5 { _ = try await http.login(user.email) }
        }
    }

    @Test("one client address gets 429 after its burst while another address is served")
    func perAddress() async throws {
        try await withShop({ $0.loginAddressBurst = 4; $0.loginAddressPerMinute = 1 }) { http throws in
            let user = try await http.register(email: Shop.newEmail())
            var statuses: [Int] = []
            for guess in 0..<3 {
                let request = RawHTTPConnection.request("POST", "/api/auth/login", body: Self.loginBody(Shop.newEmail("nobody"), "guess-\(guess)"))
                statuses.append(try await rawRequest(port: http.port, request)?.status ?? 0)
            }
            // Registration took the first token: three guesses, then nothing.
            #expect(statuses == [401, 401, 401])
            let refused = try await rawRequest(port: http.port, RawHTTPConnection.request("POST", "/api/auth/login", body: Self.loginBody(user.email, Shop.password)))
            #expect(refused?.status == 429)
            #expect(refused?.headers["retry-after"] != nil)
            let elsewhere = try await rawRequest(port: http.port, from: "127.0.0.2", RawHTTPConnection.request("POST", "/api/auth/login", body: Self.loginBody(user.email, Shop.password)))
            #expect(elsewhere?.status == 200)
            // Routes that do not hash are not rate limited.
            #expect(try await http.get("/api/products/").status == 200)
        }
    }

    @Test("two hundred concurrent logins at production hashing cost do not make /api/users/me or product routes fail")
    func concurrentLogins() async throws {
        var settings = Shop.userSettings
        settings["SHOP_PASSWORD_ROUNDS"] = "600000"
        try await withShopServices(userSettings: settings) { upstreams throws in
            try await withGateway(GatewayHarness.configuration(upstreams: upstreams)) { http, _ throws in
                let user = try await http.register()
                let token = try await http.login(user.email)
                let port = http.port
                let outcomes = Locked<[Int: Int]>([:])
                let readFailures = Locked<[Int]>([])
                let reads = Locked(0)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // 200 logins at once, each for another account (an unknown
                    // email costs a hash too), from eight client addresses (25
                    // each, inside each address's burst), a connection each.
                    for index in 0..<200 {
                        group.addTask {
                            let source = "127.0.0.\(2 + index % 8)"
                            let request = RawHTTPConnection.request("POST", "/api/auth/login", body: Self.loginBody(Shop.newEmail("guess"), "wrong-\(index)"))
                            let status = try await rawRequest(port: port, from: source, request)?.status ?? 0
                            outcomes.withLock { $0[status, default: 0] += 1 }
                        }
                    }
                    group.addTask {
                        // Meanwhile, routes that do not hash, until the logins are done.
                        let clock = ContinuousClock()
                        let start = clock.now
                        while clock.now - start < .seconds(3) {
                            let me = try await http.get("/api/users/me", token: token).status
                            let products = try await http.get("/api/products/").status
                            reads.withLock { $0 += 1 }
                            for status in [me, products] where status != 200 { readFailures.withLock { $0.append(status) } }
                        }
                    }
                    try await group.waitForAll()
                }
                let counted = outcomes.value
                let failures = readFailures.value
                let readPairs = reads.value
                print("logins: \(counted); reads: \(readPairs) pairs, failures \(failures)")
                #expect(failures.isEmpty)
                #expect(readPairs >= 5)
                // Every login got an answer, none a 503; without the bounds
                // nearly all would wait for their deadline (504, then 503 once
                // the circuit opens). Only a hash the machine's load slowed
                // past the queue's estimate may still time out.
                #expect(Set(counted.keys).isSubset(of: [401, 429, 504]))
                #expect(counted[504, default: 0] <= 5)
                #expect(counted[429, default: 0] > 100)
                #expect(counted[401, default: 0] > 0)
                // And the user service is still in service.
                let loginWorks = try await eventually {
                    try await http.post("/api/auth/login", json: Self.loginBody(user.email, Shop.password)).status == 200
                }
                #expect(loginWorks)
                #expect(try await http.get("/health").status == 200)
            }
        }
    }
}

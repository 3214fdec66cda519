import Foundation
import FrameRPC
import ServiceSupport
import ShopAuth

/// How `shop serve user` and the tests build the user service.
///
/// The factory reads and checks the settings (``UserServiceSettings``;
/// a missing or short `SHOP_SIGNING_KEY` is a ``ConfigurationError``), opens
/// its database (``ServiceDatabase``: `<data>/user.sqlite` or PostgreSQL), and creates the first admin from `SHOP_ADMIN_EMAIL`
/// and `SHOP_ADMIN_PASSWORD` when no user has that email yet.
public enum UserServiceApp {
    public static let factory: ServiceFactory = { environment in
        let settings = try UserServiceSettings(environment)
        let tokens: TokenAuthority
        do {
            tokens = try await TokenAuthority(signingKey: settings.signingKey)
        } catch {
            throw ConfigurationError("\(UserServiceSettings.signingKey): \(error)")
        }
        let database = try await ServiceDatabase.open("user", migrations: UserStore.migrations, environment: environment)
        let store = UserStore(database)
        let work = BlockingWorkPool(name: "user-password-hashing", maximumPending: settings.passwordQueue)
        let hasher = PasswordHasher(rounds: settings.passwordRounds)
        let decoyPassword = Validation.newID()
        let decoyHash = try await work.run { try hasher.hash(decoyPassword) }

        if let admin = settings.admin {
            try await createFirstAdmin(admin, store: store, hasher: hasher, work: work, environment: environment)
        }
        return RunnableService(handler: UserHandler(
            store: store,
            hasher: hasher,
            work: work,
            tokens: tokens,
            callers: CallerResolver(tokens: tokens),
            tokenLifetime: settings.tokenLifetime,
            decoyHash: decoyHash,
            logger: environment.logger
        ), background: database.services)
    }

    /// Creates the configured admin unless a user with that email exists
    /// (whatever its role: an existing account is never changed here).
    private static func createFirstAdmin(
        _ admin: UserServiceSettings.Admin,
        store: UserStore,
        hasher: PasswordHasher,
        work: BlockingWorkPool,
        environment: ServiceEnvironment
    ) async throws {
        guard try await store.user(email: admin.email.value) == nil else { return }
        let password = admin.password
        let hash = try await work.run { try hasher.hash(password) }
        let record = UserRecord(
            id: Validation.newID(),
            email: admin.email.value,
            fullName: "Administrator",
            passwordHash: hash,
            isActive: true,
            role: .admin,
            createdAt: UserRecord.now()
        )
        do {
            let created = try await store.insert(record)
            environment.logger.notice("created the first admin from \(UserServiceSettings.adminEmail)", metadata: ["user_id": "\(created.id)"])
        } catch let error as RPCError where error.code == .alreadyExists {
            // Another process created it meanwhile: nothing to do.
        }
    }
}

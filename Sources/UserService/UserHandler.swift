import FrameRPC
import Logging
import ServiceSupport
import ShopAPI
import ShopAuth

/// Serves `shop.user.v1.UserService`: accounts, password checks and tokens.
///
/// Authorization is checked here as well as at the gateway, because this
/// service owns the data: the caller is the end user of the token the
/// gateway forwards, another service acting as itself, or anonymous
/// (``CallerResolver``). Which services may call which RPC at all is the
/// generated `UserServicePolicy`, enforced before any of this runs.
///
/// Deactivation, role changes and password changes raise the account's
/// token version (``UserRecord/revokeTokens(ifChangedFrom:passwordChanged:)``),
/// which `GetAccountStatus` reports to the gateway: older tokens stop
/// working on the next request.
///
/// Password hashing (PBKDF2, hundreds of milliseconds per call in
/// production) runs on ``BlockingWorkPool``'s own threads, so registrations
/// and logins never hold the threads that serve reads.
struct UserHandler: UserServiceHandler {
    /// The one answer to every failed login: unknown email, wrong password
    /// and deactivated account must be indistinguishable.
    static let loginFailure = RPCError(code: .unauthenticated, message: "invalid email or password")

    let store: UserStore
    let hasher: PasswordHasher
    let work: BlockingWorkPool
    let tokens: TokenAuthority
    let callers: CallerResolver
    /// Seconds an access token is good for.
    let tokenLifetime: Int
    /// A hash of a random password, checked when a login names an unknown
    /// email so that it takes as long as one that names a known email.
    let decoyHash: String
    let logger: Logger

    // MARK: Registration

    func createUser(_ request: Shop_User_V1_CreateUserRequest, context: ServerContext) async throws -> Shop_User_V1_User {
        let email = try EmailAddress(validating: request.email)
        let fullName = UserRules.fullName(request.fullName)
        let password = request.password
        // A cheap early answer for the common duplicate; the unique index
        // still decides between concurrent registrations.
        if try await store.user(email: email.value) != nil {
            throw RPCError(code: .alreadyExists, message: "email: is already registered")
        }
        let hash = try await hashPassword(password)
        let record = UserRecord(
            id: Validation.newID(),
            email: email.value,
            fullName: fullName,
            passwordHash: hash,
            isActive: request.hasIsActive ? request.isActive : true,
            role: .user,
            createdAt: UserRecord.now()
        )
        return try await store.insert(record).proto
    }

    // MARK: Reading

    func getCurrentUser(_ request: Shop_User_V1_GetCurrentUserRequest, context: ServerContext) async throws -> Shop_User_V1_User {
        let id = try await callers.caller(of: context).requireUser().lowercased()
        guard let record = try await store.user(id: id) else { throw Self.notFound(id) }
        return record.proto
    }

    func getUser(_ request: Shop_User_V1_GetUserRequest, context: ServerContext) async throws -> Shop_User_V1_User {
        let id = try Validation.id(request.id, field: "id")
        try await callers.caller(of: context).requireAccess(ownedBy: id, denial: "you may only read your own account")
        guard let record = try await store.user(id: id) else { throw Self.notFound(id) }
        return record.proto
    }

    func listUsers(_ request: Shop_User_V1_ListUsersRequest, context: ServerContext) async throws -> Shop_User_V1_ListUsersResponse {
        try await callers.caller(of: context).requireAdmin()
        let cursor = try PageCursor(
            pageSize: request.pageSize, pageToken: request.pageToken, skip: request.skip, limit: request.limit, list: "users"
        )
        let page = try await store.users(cursor)
        return .with {
            $0.users = page.users.map(\.proto)
            $0.nextPageToken = cursor.nextPageToken(lastKey: page.users.last?.seq.map { [$0] }, hasMore: page.hasMore)
        }
    }

    // MARK: Changes

    func updateUser(_ request: Shop_User_V1_UpdateUserRequest, context: ServerContext) async throws -> Shop_User_V1_User {
        let id = try Validation.id(request.id, field: "id")
        let caller = try await callers.caller(of: context)
        try caller.requireAccess(ownedBy: id, denial: "you may only change your own account")
        if request.hasIsActive || request.hasRole, !(caller.isPrivileged) {
            throw RPCError(code: .permissionDenied, message: "is_active and role may be changed by admins only")
        }
        let email = request.hasEmail ? try EmailAddress(validating: request.email) : nil
        let fullName = request.hasFullName ? UserRules.fullName(request.fullName) : nil
        let password = request.hasPassword ? request.password : nil
        let role = request.hasRole ? try UserRules.role(request.role) : nil
        let isActive = request.hasIsActive ? request.isActive : nil

        var passwordHash: String?
        if let password {
            // Not worth a hash for a user that is not there.
            guard try await store.user(id: id) != nil else { throw Self.notFound(id) }
            passwordHash = try await hashPassword(password)
        }
        let newHash = passwordHash
        let updated = try await store.update(id: id) { record in
            let before = record
            if let email { record.email = email.value }
            if let fullName { record.fullName = fullName }
            if let newHash { record.passwordHash = newHash }
            if let role { record.role = role }
            if let isActive { record.isActive = isActive }
            record.revokeTokens(ifChangedFrom: before, passwordChanged: newHash != nil)
        }
        guard let updated else { throw Self.notFound(id) }
        return updated.proto
    }

    func deactivateUser(_ request: Shop_User_V1_DeactivateUserRequest, context: ServerContext) async throws -> Shop_User_V1_DeactivateUserResponse {
        try await callers.caller(of: context).requireAdmin()
        let id = try Validation.id(request.id, field: "id")
        let deactivated = try await store.update(id: id) { record in
            let before = record
            record.isActive = false
            record.revokeTokens(ifChangedFrom: before, passwordChanged: false)
        }
        guard deactivated != nil else { throw Self.notFound(id) }
        return Shop_User_V1_DeactivateUserResponse()
    }

    // MARK: Token checks

    /// The account's state for the gateway's token check. No caller rule
    /// beyond the call policy (the gateway only): it is asked before the
    /// request's identity is established.
    func getAccountStatus(_ request: Shop_User_V1_GetAccountStatusRequest, context: ServerContext) async throws -> Shop_User_V1_AccountStatus {
        let id = try Validation.id(request.id, field: "id")
        guard let record = try await store.user(id: id) else { throw Self.notFound(id) }
        return record.accountStatus
    }

    // MARK: Login

    func login(_ request: Shop_User_V1_LoginRequest, context: ServerContext) async throws -> Shop_User_V1_LoginResponse {
        let email = EmailAddress.normalize(request.email)
        guard !email.isEmpty else { throw Validation.invalid("email", "must not be empty") }
        guard !request.password.isEmpty else { throw Validation.invalid("password", "must not be empty") }
        // No stored password is this long: nothing to compare.
        guard request.password.utf8.count <= UserRules.maximumPasswordBytes,
              request.password.count <= UserRules.maximumPasswordLength else { throw Self.loginFailure }

        let record = try await store.user(email: email)
        let password = request.password
        let stored = record?.passwordHash ?? decoyHash
        let hasher = self.hasher
        let matches = try await work.run { hasher.verify(password, against: stored) }
        guard let record, matches, record.isActive else { throw Self.loginFailure }

        if hasher.needsRehash(record.passwordHash) {
            await upgradeHash(of: record.id, password: password)
        }
        let issued = try await tokens.issue(
            userID: record.id, role: record.role.tokenRole, tokenVersion: record.tokenVersion, lifetime: Double(tokenLifetime)
        )
        return .with {
            $0.accessToken = issued.token
            $0.tokenType = "bearer"
            $0.expiresIn = Int32(tokenLifetime)
        }
    }

    // MARK: Helpers

    private func hashPassword(_ password: String) async throws -> String {
        let hasher = self.hasher
        return try await work.run { try hasher.hash(password) }
    }

    /// Re-hashes a password stored with fewer rounds than are now configured,
    /// while it is known (right after a successful login). Best effort: the
    /// login succeeds either way.
    private func upgradeHash(of id: String, password: String) async {
        do {
            let hash = try await hashPassword(password)
            _ = try await store.update(id: id) { $0.passwordHash = hash }
        } catch {
            logger.warning("could not upgrade a password hash", metadata: ["user_id": "\(id)", "error": "\(error)"])
        }
    }

    private static func notFound(_ id: String) -> RPCError {
        RPCError(code: .notFound, message: "user \(id) not found")
    }
}

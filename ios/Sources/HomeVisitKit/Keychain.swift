import Foundation
import Security

/// What went wrong with the Keychain; the store file is never touched because of it.
public enum KeychainError: Error, Equatable, CustomStringConvertible {
    /// A Keychain call failed with this `OSStatus`.
    case status(OSStatus)
    /// An item exists under the key's name but is not 32 bytes: it is left alone.
    case malformedKey(length: Int)
    /// The system random generator failed.
    case randomFailed(OSStatus)

    public var description: String {
        switch self {
        case .status(let s): return "Keychain error \(s)"
        case .malformedKey(let n): return "the stored key is \(n) bytes, not 32"
        case .randomFailed(let s): return "SecRandomCopyBytes failed (\(s))"
        }
    }
}

/// The store key held in the iOS Keychain as a generic password, readable after the first
/// unlock since boot and never migrated to another device or backup
/// (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`), so background sync can open the store
/// while a lost tablet's backup cannot.
///
/// A key is created once per account and never replaced: if the store later answers
/// `WrongKey`, the app asks again rather than deleting anything (docs/API.md, Errors).
public struct KeychainKeyProvider: KeyProvider {
    /// The Keychain service name the keys are filed under.
    public let service: String
    /// Whose store the key opens (the signed-in user's id).
    public let account: String

    /// The key of `account`'s store, filed under `service`.
    public init(account: String, service: String = "app.homevisit.store-key") {
        self.account = account
        self.service = service
    }

    public func storeKey() throws -> Data {
        if let existing = try read(account: account) {
            return existing
        }
        let fresh = try Self.randomKey()
        var add = baseQuery(account: account)
        add[kSecValueData as String] = fresh
        add[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        let status = SecItemAdd(add as CFDictionary, nil)
        switch status {
        case errSecSuccess:
            return fresh
        case errSecDuplicateItem:
            // Another thread stored a key first: use that one, so both open the same store.
            guard let winner = try read(account: account) else { throw KeychainError.status(status) }
            return winner
        default:
            throw KeychainError.status(status)
        }
    }

    private func baseQuery(account: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
        ]
    }

    private func read(account: String) throws -> Data? {
        var query = baseQuery(account: account)
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let data = item as? Data else { throw KeychainError.status(errSecInternalError) }
            guard data.count == 32 else { throw KeychainError.malformedKey(length: data.count) }
            return data
        case errSecItemNotFound:
            return nil
        default:
            throw KeychainError.status(status)
        }
    }

    static func randomKey() throws -> Data {
        var bytes = [UInt8](repeating: 0, count: 32)
        let status = SecRandomCopyBytes(kSecRandomDefault, bytes.count, &bytes)
        guard status == errSecSuccess else { throw KeychainError.randomFailed(status) }
        return Data(bytes)
    }
}

/// A short secret (the device token the team server issued) in the Keychain, this device only.
public struct KeychainSecret: Sendable {
    public let service: String
    public let account: String

    public init(account: String, service: String = "app.homevisit.device-token") {
        self.account = account
        self.service = service
    }

    private var query: [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
        ]
    }

    /// The stored secret, `nil` if none.
    public func read() throws -> String? {
        var q = query
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let data = item as? Data else { throw KeychainError.status(errSecInternalError) }
            return String(decoding: data, as: UTF8.self)
        case errSecItemNotFound:
            return nil
        default:
            throw KeychainError.status(status)
        }
    }

    /// Stores (or replaces) the secret.
    public func write(_ secret: String) throws {
        let data = Data(secret.utf8)
        let update = SecItemUpdate(query as CFDictionary, [kSecValueData as String: data] as CFDictionary)
        if update == errSecSuccess { return }
        guard update == errSecItemNotFound else { throw KeychainError.status(update) }
        var add = query
        add[kSecValueData as String] = data
        add[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        let status = SecItemAdd(add as CFDictionary, nil)
        guard status == errSecSuccess else { throw KeychainError.status(status) }
    }
}

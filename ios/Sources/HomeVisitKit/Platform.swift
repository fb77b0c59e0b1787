// The seams between the library and the platform: where the store key comes from, whether the
// device is online, and who asks for a sync. The iOS implementations (Keychain, NWPathMonitor)
// depend only on these protocols, so view models and tests can drive them.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/kit/Platform.kt.
import Foundation
import HomeVisitCore

/// Supplies the 32-byte store key (`SAF-DEVICE-LOST`: the iOS Keychain on devices).
public protocol KeyProvider: Sendable {
    /// The key; the same bytes on every call for the same signed-in user.
    func storeKey() throws -> Data
}

/// Whether the device can reach the team server now.
public protocol Connectivity: AnyObject, Sendable {
    /// `true` while a usable network is available.
    var online: Bool { get }
    /// The current value, then every change, until the consumer stops iterating.
    func onlineUpdates() -> AsyncStream<Bool>
}

/// Why a sync was asked for (shown in the sync screen and logs).
public enum SyncReason: String, Sendable, Equatable {
    /// The user tapped "Sync now".
    case user
    /// The network came back (NWPathMonitor).
    case reconnect
    /// The periodic background task (BGTaskScheduler).
    case periodic
}

/// How one requested sync ended.
public enum SyncOutcome: Sendable {
    /// The server was reached; the summary says what moved.
    case done(SyncSummary)
    /// It failed; the error says why (network errors are retried later).
    case failed(UiError)
    /// No server is configured for this store (a demo or a store not yet enrolled).
    case notConfigured
}

/// Something that can run one sync; `HomeVisit` is the real one.
public protocol SyncTrigger: AnyObject, Sendable {
    /// Runs one sync (or waits for the one already running, then syncs) and reports how it ended.
    func syncNow(reason: SyncReason) async -> SyncOutcome
}

/// A `Connectivity` whose state is set by its owner: a "work offline" switch or a test.
public final class SettableConnectivity: Connectivity, @unchecked Sendable {
    private let lock = NSLock()
    private var value: Bool
    private var listeners: [UUID: AsyncStream<Bool>.Continuation] = [:]

    /// Starts `initial`ly online or not.
    public init(initial: Bool = false) {
        value = initial
    }

    public var online: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    /// Records a change of network state.
    public func set(_ online: Bool) {
        lock.lock()
        let changed = online != value
        value = online
        let targets = Array(listeners.values)
        lock.unlock()
        guard changed else { return }
        for continuation in targets {
            continuation.yield(online)
        }
    }

    public func onlineUpdates() -> AsyncStream<Bool> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let id = UUID()
            lock.lock()
            listeners[id] = continuation
            let now = value
            lock.unlock()
            continuation.yield(now)
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                self.lock.lock()
                self.listeners[id] = nil
                self.lock.unlock()
            }
        }
    }
}

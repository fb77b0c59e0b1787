// Connectivity from NWPathMonitor, and the decision to sync when the device comes (back)
// online. Mirrors android/homevisit/src/main/kotlin/app/homevisit/kit/SyncOnReconnect.kt.
import Foundation
import Network

/// `Connectivity` from `NWPathMonitor`: online while the current path is `.satisfied`.
public final class PathMonitorConnectivity: Connectivity, @unchecked Sendable {
    private let monitor = NWPathMonitor()
    private let relay = SettableConnectivity(initial: false)

    /// Starts monitoring at once, on its own queue.
    public init() {
        monitor.pathUpdateHandler = { [relay] path in
            relay.set(path.status == .satisfied)
        }
        monitor.start(queue: DispatchQueue(label: "app.homevisit.connectivity"))
    }

    deinit {
        monitor.cancel()
    }

    public var online: Bool { relay.online }

    public func onlineUpdates() -> AsyncStream<Bool> { relay.onlineUpdates() }
}

/// Watches `connectivity` and asks `trigger` for a sync each time it goes from offline to online
/// (and once at start if already online). Offline → nothing is attempted, so no failed syncs
/// pile up while the tablet has no signal. A failed sync is reported in the trigger's state and
/// retried at the next reconnect or periodic run.
public final class SyncOnReconnect: @unchecked Sendable {
    private let trigger: SyncTrigger
    private let connectivity: Connectivity

    public init(trigger: SyncTrigger, connectivity: Connectivity) {
        self.trigger = trigger
        self.connectivity = connectivity
    }

    /// Starts watching; cancel the returned task to stop.
    @discardableResult
    public func start() -> Task<Void, Never> {
        let updates = connectivity.onlineUpdates()
        let trigger = self.trigger
        return Task {
            var previous: Bool?
            for await online in updates {
                // distinctUntilChanged, then only the transitions to online.
                defer { previous = online }
                if online == previous { continue }
                if online {
                    _ = await trigger.syncNow(reason: .reconnect)
                }
            }
        }
    }
}

/// The body of the periodic background sync (a `BGAppRefreshTask`): sync if online, report
/// whether the task should be retried later.
public final class PeriodicSync: @unchecked Sendable {
    private let trigger: SyncTrigger
    private let connectivity: Connectivity

    public init(trigger: SyncTrigger, connectivity: Connectivity) {
        self.trigger = trigger
        self.connectivity = connectivity
    }

    /// One run; `true` when it synced or had nothing to do, `false` to retry with back-off.
    public func runOnce() async -> Bool {
        guard connectivity.online else { return false }
        switch await trigger.syncNow(reason: .periodic) {
        case .done, .notConfigured: return true
        case .failed: return false
        }
    }
}

// Sync status (SAF-LOST-EDIT): online or not, a progress bar while syncing, what is still only on
// this device, conflicts, and when the device last synced completely.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/SyncStatusPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// The one-word sync status a badge shows.
public enum SyncPhase: String, Sendable {
    /// No team server configured (demo store).
    case notConfigured
    /// A sync is running.
    case syncing
    /// The last sync failed (see `error`); retried on reconnect or by the periodic task.
    case failed
    /// No network; changes wait on the device.
    case offline
    /// Changes the server has not acknowledged yet.
    case pending
    /// The server has every local change.
    case synced
}

/// - `online`: the network is available (`Connectivity`).
/// - `docsDone` / `docsTotal`: the running sync's progress; `fraction` 0–1 when known.
/// - `unsynced`: records the server lacks changes of (local only, pending or conflict).
/// - `conflictCount`: unsynced records that are in conflict.
/// - `lastSyncedAt`: RFC 3339 instant of the last complete sync, `nil` if never.
/// - `lastReason`: what started the last sync (`user`, `reconnect`, `periodic`).
public struct SyncStatusState: ScreenState {
    public var online: Bool = false
    public var phase: SyncPhase = .pending
    public var docsDone: Int64 = 0
    public var docsTotal: Int64 = 0
    public var fraction: Double?
    public var unsynced: [RecordRow] = []
    public var conflictCount: Int = 0
    public var lastSyncedAt: String?
    public var lastReason: SyncReason?
    public var lastDocsSent: Int64 = 0
    public var lastDocsReceived: Int64 = 0
    public var error: UiError?

    public init() {}
}

/// The phase shown for a sync state, network state and unsynced list.
public func syncPhase(configured: Bool, sync: SyncState, online: Bool, unsynced: [RecordItem]) -> SyncPhase {
    if !configured { return .notConfigured }
    if sync.running { return .syncing }
    if sync.lastError != nil { return .failed }
    if !online { return .offline }
    if unsynced.isEmpty && sync.lastSyncedAt != nil { return .synced }
    return .pending
}

private let rfc3339: ISO8601DateFormatter = {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f
}()

/// Events: `syncNow`. Follows the facade's sync state, the network and the unsynced list.
@MainActor
public final class SyncStatusViewModel: ViewModel<SyncStatusState> {
    private let hv: HomeVisit
    private let connectivity: Connectivity
    // The latest of each source; the state is built once all three have reported (combine).
    private var sync: SyncState?
    private var online: Bool?
    private var unsynced: [RecordItem]?

    public init(hv: HomeVisit, connectivity: Connectivity) {
        self.hv = hv
        self.connectivity = connectivity
        super.init(initial: SyncStatusState())
        let syncUpdates = hv.syncStateUpdates()
        let onlineUpdates = connectivity.onlineUpdates()
        let unsyncedUpdates = hv.unsyncedUpdates()
        launch { [weak self] in
            for await s in syncUpdates {
                self?.sync = s
                self?.combine()
            }
        }
        launch { [weak self] in
            for await o in onlineUpdates {
                self?.online = o
                self?.combine()
            }
        }
        launch { [weak self] in
            for await u in unsyncedUpdates {
                self?.unsynced = u
                self?.combine()
            }
        }
    }

    private func combine() {
        guard let sync, let online, let unsynced else { return }
        let p = sync.progress
        let configured = hv.canSync
        update {
            $0.online = online
            $0.phase = syncPhase(configured: configured, sync: sync, online: online, unsynced: unsynced)
            $0.docsDone = Int64(p?.docsDone ?? 0)
            $0.docsTotal = Int64(p?.docsTotal ?? 0)
            if let p, sync.running, p.docsTotal > 0 {
                $0.fraction = Double(p.docsDone) / Double(p.docsTotal)
            } else {
                $0.fraction = nil
            }
            $0.unsynced = unsynced.map { $0.toRow() }
            $0.conflictCount = unsynced.filter { $0.syncStatus == .conflict }.count
            $0.lastSyncedAt = sync.lastSyncedAt.map { rfc3339.string(from: $0) }
            $0.lastReason = sync.lastReason
            $0.lastDocsSent = Int64(sync.lastSummary?.docsSent ?? 0)
            $0.lastDocsReceived = Int64(sync.lastSummary?.docsReceived ?? 0)
            $0.error = sync.lastError
        }
    }

    /// "Sync now": one sync with the team server; a failure shows as the error.
    @discardableResult
    public func syncNow() -> Task<Void, Never> {
        act {
            if case .failed(let e) = await self.hv.syncNow(reason: .user) {
                self.update { $0.error = e }
            }
        }
    }
}

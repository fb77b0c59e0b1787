// Sync status (SAF-LOST-EDIT): online or not, a progress bar while syncing, what is still only on
// this device, conflicts, and when the device last synced completely.
package app.homevisit.presenters

import app.homevisit.core.RecordItem
import app.homevisit.core.SyncStatus
import app.homevisit.kit.Connectivity
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.SyncOutcome
import app.homevisit.kit.SyncReason
import app.homevisit.kit.SyncState
import app.homevisit.kit.UiError
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.combine
import kotlinx.coroutines.launch

/** The one-word sync status a badge shows. */
enum class SyncPhase {
    /** No team server configured (demo store). */
    NOT_CONFIGURED,

    /** A sync is running. */
    SYNCING,

    /** The last sync failed (see `error`); retried on reconnect or by the periodic job. */
    FAILED,

    /** No network; changes wait on the device. */
    OFFLINE,

    /** Changes the server has not acknowledged yet. */
    PENDING,

    /** The server has every local change. */
    SYNCED,
}

/**
 * @property online the network is available ([Connectivity]).
 * @property docsDone / docsTotal the running sync's progress; [fraction] 0–1 when known.
 * @property unsynced records the server lacks changes of (local only, pending or conflict).
 * @property conflictCount unsynced records that are in conflict.
 * @property lastSyncedAt RFC 3339 instant of the last complete sync, `null` if never.
 * @property lastReason what started the last sync (`USER`, `RECONNECT`, `PERIODIC`).
 */
data class SyncStatusState(
    val online: Boolean = false,
    val phase: SyncPhase = SyncPhase.PENDING,
    val docsDone: Long = 0,
    val docsTotal: Long = 0,
    val fraction: Float? = null,
    val unsynced: List<RecordRow> = emptyList(),
    val conflictCount: Int = 0,
    val lastSyncedAt: String? = null,
    val lastReason: SyncReason? = null,
    val lastDocsSent: Long = 0,
    val lastDocsReceived: Long = 0,
    val error: UiError? = null,
)

/** The phase shown for a sync state, network state and unsynced list. */
fun syncPhase(configured: Boolean, sync: SyncState, online: Boolean, unsynced: List<RecordItem>): SyncPhase = when {
    !configured -> SyncPhase.NOT_CONFIGURED
    sync.running -> SyncPhase.SYNCING
    sync.lastError != null -> SyncPhase.FAILED
    !online -> SyncPhase.OFFLINE
    unsynced.isEmpty() && sync.lastSyncedAt != null -> SyncPhase.SYNCED
    else -> SyncPhase.PENDING
}

/** Events: [syncNow]. Follows the facade's sync state, the network and the unsynced list. */
class SyncStatusPresenter(
    private val hv: HomeVisit,
    private val connectivity: Connectivity,
    scope: CoroutineScope,
) : Presenter<SyncStatusState>(SyncStatusState(), scope) {

    init {
        this.scope.launch {
            combine(hv.syncState, connectivity.online, hv.unsyncedUpdates()) { sync, online, unsynced ->
                Triple(sync, online, unsynced)
            }.collect { (sync, online, unsynced) ->
                val p = sync.progress
                update {
                    it.copy(
                        online = online,
                        phase = syncPhase(hv.canSync, sync, online, unsynced),
                        docsDone = p?.docsDone?.toLong() ?: 0,
                        docsTotal = p?.docsTotal?.toLong() ?: 0,
                        fraction = p?.takeIf { x -> sync.running && x.docsTotal > 0u }?.let { x -> x.docsDone.toFloat() / x.docsTotal.toFloat() },
                        unsynced = unsynced.map { r -> r.toRow() },
                        conflictCount = unsynced.count { r -> r.syncStatus == SyncStatus.CONFLICT },
                        lastSyncedAt = sync.lastSyncedAt?.toString(),
                        lastReason = sync.lastReason,
                        lastDocsSent = sync.lastSummary?.docsSent?.toLong() ?: 0,
                        lastDocsReceived = sync.lastSummary?.docsReceived?.toLong() ?: 0,
                        error = sync.lastError,
                    )
                }
            }
        }
    }

    override fun SyncStatusState.withError(error: UiError?) = copy(error = error)

    /** "Sync now": one sync with the team server; a failure shows as the error. */
    fun syncNow(): Job = act {
        when (val o = hv.syncNow(SyncReason.USER)) {
            is SyncOutcome.Failed -> update { it.copy(error = o.error) }
            else -> {}
        }
    }
}

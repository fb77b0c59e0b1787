// Syncs whenever the device comes (back) online. The Android NetworkCallback only flips a
// Connectivity; this class, pure Kotlin and tested on the JVM, decides to sync.
package app.homevisit.kit

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.launch

/**
 * Watches [connectivity] and asks [trigger] for a sync each time it goes from offline to online
 * (and once at start if already online). Offline → nothing is attempted, so no failed syncs
 * pile up while the tablet has no signal. A failed sync is reported in the trigger's state and
 * retried at the next reconnect or periodic run.
 */
class SyncOnReconnect(
    private val trigger: SyncTrigger,
    private val connectivity: Connectivity,
) {
    /** Starts watching in [scope]; cancel the returned job (or the scope) to stop. */
    fun start(scope: CoroutineScope): Job = scope.launch {
        // A StateFlow only emits changes, so each `true` here is an offline → online edge.
        connectivity.online
            .filter { it }
            .collect { trigger.syncNow(SyncReason.RECONNECT) }
    }
}

/**
 * The body of the periodic sync job (WorkManager on Android): sync if online, report whether
 * the job should be retried later.
 */
class PeriodicSync(
    private val trigger: SyncTrigger,
    private val connectivity: Connectivity,
) {
    /** One run; `true` when it synced or had nothing to do, `false` to retry with back-off. */
    suspend fun runOnce(): Boolean {
        if (!connectivity.online.value) return false
        return when (trigger.syncNow(SyncReason.PERIODIC)) {
            is SyncOutcome.Done, SyncOutcome.NotConfigured -> true
            is SyncOutcome.Failed -> false
        }
    }
}

// The seams between the library and the platform: where the store key comes from, whether
// the device is online, and who asks for a sync. Pure Kotlin, so the JVM tests drive them;
// the Android implementations (Keystore, ConnectivityManager, WorkManager) live in
// src/androidMain and depend only on these interfaces.
package app.homevisit.kit

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/** Supplies the 32-byte store key (SAF-DEVICE-LOST: Android Keystore / iOS Keychain on devices). */
fun interface KeyProvider {
    /** The key; the same bytes on every call for the same signed-in user. */
    fun storeKey(): ByteArray
}

/** Whether the device can reach the team server now. */
interface Connectivity {
    /** `true` while a usable network is available. */
    val online: StateFlow<Boolean>
}

/**
 * A [Connectivity] whose state is set by its owner: the Android `NetworkCallback` sets it from
 * `onAvailable`/`onLost`; a "work offline" switch or a test sets it directly.
 */
class SettableConnectivity(initial: Boolean = false) : Connectivity {
    private val state = MutableStateFlow(initial)
    override val online: StateFlow<Boolean> = state.asStateFlow()

    /** Records a change of network state. */
    fun set(online: Boolean) {
        state.value = online
    }
}

/** Why a sync was asked for (shown in the sync screen and logs). */
enum class SyncReason {
    /** The user tapped "Sync now". */
    USER,
    /** The network came back (ConnectivityManager callback). */
    RECONNECT,
    /** The periodic WorkManager job. */
    PERIODIC,
}

/** Something that can run one sync; [HomeVisit] is the real one. */
interface SyncTrigger {
    /** Runs one sync (or joins the one already running) and reports how it ended. */
    suspend fun syncNow(reason: SyncReason): SyncOutcome
}

/** How one requested sync ended. */
sealed interface SyncOutcome {
    /** The server was reached; [summary] says what moved. */
    data class Done(val summary: app.homevisit.core.SyncSummary) : SyncOutcome

    /** It failed; [error] says why (network errors are retried later). */
    data class Failed(val error: UiError) : SyncOutcome

    /** No server is configured for this store (a demo or a store not yet enrolled). */
    data object NotConfigured : SyncOutcome
}

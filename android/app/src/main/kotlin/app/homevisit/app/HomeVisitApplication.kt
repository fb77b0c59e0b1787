// The Application: holds the signed-in user's HomeVisit, the network state, the reconnect sync
// and the periodic WorkManager job.
package app.homevisit.app

import android.app.Application
import app.homevisit.android.AndroidConnectivity
import app.homevisit.android.HomeVisitHost
import app.homevisit.android.KeystoreKeyProvider
import app.homevisit.android.SyncWorker
import app.homevisit.core.Identity
import app.homevisit.kit.Connectivity
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.ServerConfig
import app.homevisit.kit.SyncOnReconnect
import app.homevisit.kit.SyncTrigger
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob

class HomeVisitApplication : Application(), HomeVisitHost {
    /** Lives as long as the process: sync on reconnect runs here. */
    val appScope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    private lateinit var androidConnectivity: AndroidConnectivity
    override val connectivity: Connectivity get() = androidConnectivity

    @Volatile
    var homeVisit: HomeVisit? = null
        private set

    override val syncTrigger: SyncTrigger? get() = homeVisit

    private var reconnect: Job? = null

    override fun onCreate() {
        super.onCreate()
        androidConnectivity = AndroidConnectivity(this)
        SyncWorker.schedule(this)
    }

    /**
     * Opens the signed-in user's store (key from Android Keystore) and starts syncing on
     * reconnect. Enrolment (identity, server URL and device token) comes from the team's
     * administrator (`homevisit-server device add`).
     */
    suspend fun signIn(identity: Identity, server: ServerConfig): HomeVisit {
        homeVisit?.let { return it }
        val path = File(noBackupFilesDir, "homevisit-${identity.userId}.db").path
        val keys = KeystoreKeyProvider(this, identity.userId)
        // First sign-in on this tablet creates the store; afterwards it must be there: a lost
        // or emptied file is an error to report, never replaced by a new, empty store.
        val hv = if (File(path).exists()) {
            HomeVisit.open(path, keys, identity, server)
        } else {
            HomeVisit.create(path, keys, identity, server)
        }
        homeVisit = hv
        reconnect = SyncOnReconnect(hv, connectivity).start(appScope)
        return hv
    }

    /** Stops syncing and closes the store. */
    suspend fun signOut() {
        reconnect?.cancel()
        reconnect = null
        homeVisit?.closeStore()
        homeVisit = null
    }
}

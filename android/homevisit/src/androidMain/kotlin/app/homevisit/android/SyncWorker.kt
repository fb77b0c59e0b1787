// Android only: the WorkManager periodic sync. The decision (sync if online, retry on failure)
// is PeriodicSync, tested on the JVM; this file only wires it into WorkManager.
package app.homevisit.android

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.NetworkType
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import app.homevisit.kit.Connectivity
import app.homevisit.kit.PeriodicSync
import app.homevisit.kit.SyncTrigger
import java.util.concurrent.TimeUnit

/** Implemented by the Application: the signed-in user's sync trigger, if any, and the network. */
interface HomeVisitHost {
    val syncTrigger: SyncTrigger?
    val connectivity: Connectivity
}

class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val host = applicationContext as? HomeVisitHost ?: return Result.failure()
        // Nobody signed in: nothing to sync, not a failure.
        val trigger = host.syncTrigger ?: return Result.success()
        return if (PeriodicSync(trigger, host.connectivity).runOnce()) Result.success() else Result.retry()
    }

    companion object {
        private const val NAME = "homevisit-periodic-sync"

        /** Every 30 minutes on any network, back-off from 1 minute on failure. */
        fun schedule(context: Context) {
            val request = PeriodicWorkRequestBuilder<SyncWorker>(30, TimeUnit.MINUTES)
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 1, TimeUnit.MINUTES)
                .build()
            WorkManager.getInstance(context).enqueueUniquePeriodicWork(NAME, ExistingPeriodicWorkPolicy.KEEP, request)
        }
    }
}

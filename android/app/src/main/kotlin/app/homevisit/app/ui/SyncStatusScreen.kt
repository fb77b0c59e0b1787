// Sync status: phase, progress bar, last synced, unsynced records. Renders SyncStatusState only.
package app.homevisit.app.ui

import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import app.homevisit.presenters.RecordRow
import app.homevisit.presenters.SyncPhase
import app.homevisit.presenters.SyncStatusState

@Composable
fun SyncStatusScreen(
    state: SyncStatusState,
    onSyncNow: () -> Unit,
    onOpenRecord: (RecordRow) -> Unit,
    onDismissError: () -> Unit,
) {
    Column(modifier = Modifier.padding(8.dp)) {
        ErrorBanner(state.error, onDismissError)
        val phase = when (state.phase) {
            SyncPhase.NOT_CONFIGURED -> "Not connected to a team server"
            SyncPhase.SYNCING -> "Syncing…"
            SyncPhase.FAILED -> "Last sync failed"
            SyncPhase.OFFLINE -> "Offline — changes are kept on this tablet"
            SyncPhase.PENDING -> "Changes waiting to sync"
            SyncPhase.SYNCED -> "All changes synced"
        }
        Text(phase, style = MaterialTheme.typography.titleLarge)
        Text(if (state.online) "Online" else "Offline")
        val fraction = state.fraction
        if (state.phase == SyncPhase.SYNCING) {
            if (fraction != null) {
                LinearProgressIndicator(progress = { fraction }, modifier = Modifier.fillMaxWidth())
            } else {
                LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
            }
            Text("${state.docsDone} of ${state.docsTotal} records")
        }
        Text("Last synced: ${state.lastSyncedAt ?: "never"}${state.lastReason?.let { " (${it.name.lowercase()})" } ?: ""}")
        Text("Last sync sent ${state.lastDocsSent}, received ${state.lastDocsReceived} record(s)")
        Button(onClick = onSyncNow, enabled = state.phase != SyncPhase.SYNCING && state.online) { Text("Sync now") }
        Text("${state.unsynced.size} record(s) not yet on the server, ${state.conflictCount} in conflict")
        for (record in state.unsynced) {
            RecordRowView(record, onOpenRecord)
        }
    }
}

// Conflict resolution (each candidate with who wrote it, where and when) and sign-off (sign,
// countersign, addenda). Render ConflictResolutionState and SignOffState only.
package app.homevisit.app.ui

import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.foundation.layout.Row
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import app.homevisit.presenters.AddendumRow
import app.homevisit.presenters.AmendmentDraft
import app.homevisit.presenters.CandidateUi
import app.homevisit.presenters.ConflictResolutionState
import app.homevisit.presenters.ConflictUi
import app.homevisit.presenters.SignOffState

@Composable
fun ConflictResolutionScreen(
    state: ConflictResolutionState,
    onChoose: (path: String, index: Int) -> Unit,
    onResolve: (path: String) -> Unit,
    onDismissError: () -> Unit,
) {
    Column(modifier = Modifier.verticalScroll(rememberScrollState()).padding(8.dp)) {
        ChildBanner(state.banner)
        ErrorBanner(state.error, onDismissError)
        if (state.allResolved) {
            Text("No conflicts left on this record.")
        }
        for (conflict in state.conflicts) {
            ConflictView(conflict, onChoose, onResolve)
        }
        if (state.resolvedPaths.isNotEmpty()) {
            Text("Resolved here: ${state.resolvedPaths.joinToString(", ")}")
        }
    }
}

@Composable
fun ConflictView(conflict: ConflictUi, onChoose: (String, Int) -> Unit, onResolve: (String) -> Unit) {
    Card(modifier = Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        Column(modifier = Modifier.padding(8.dp)) {
            Text(conflict.path, style = MaterialTheme.typography.titleMedium)
            conflict.candidates.forEachIndexed { i, candidate ->
                Row {
                    RadioButton(selected = conflict.selectedIndex == i, onClick = { onChoose(conflict.path, i) })
                    CandidateView(candidate)
                }
            }
            Button(onClick = { onResolve(conflict.path) }, enabled = conflict.selected != null) { Text("Use this value") }
        }
    }
}

@Composable
fun CandidateView(candidate: CandidateUi) {
    Column {
        Text(candidate.display + if (candidate.mine) " (yours)" else "")
        Text("by ${candidate.role?.name?.lowercase() ?: "?"} ${candidate.userId ?: "unknown"} on device ${candidate.deviceId ?: "?"} at ${candidate.at ?: "?"}")
    }
}

@Composable
fun SignOffScreen(
    state: SignOffState,
    onSign: () -> Unit,
    onCountersign: () -> Unit,
    onAddendum: (text: String, changes: List<AmendmentDraft>, reason: String) -> Unit,
    onAcknowledge: (String, String, String) -> Unit,
    onDismissError: () -> Unit,
) {
    Column(modifier = Modifier.verticalScroll(rememberScrollState()).padding(8.dp)) {
        ChildBanner(state.banner)
        ErrorBanner(state.error, onDismissError)
        Text("State: ${state.signState?.name ?: "—"} · you are ${state.role.name}", style = MaterialTheme.typography.titleMedium)
        if (state.signedBy != null) Text("Signed by ${state.signedBy}")
        if (state.countersignedBy != null) Text("Countersigned by ${state.countersignedBy}")
        if (state.conflictCount > 0) Text("${state.conflictCount} conflict(s) to resolve first [CF-BLOCK]", color = ErrorRed)
        IssueList(state.blockers, onAcknowledge)
        Button(onClick = onSign, enabled = state.canSign) { Text("Sign") }
        Button(onClick = onCountersign, enabled = state.canCountersign) { Text("Countersign") }
        for (a in state.addenda) {
            AddendumView(a)
        }
        if (state.canAddAddendum) {
            AddendumForm(onAddendum)
        }
    }
}

@Composable
fun AddendumView(addendum: AddendumRow) {
    Card(modifier = Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        Column(modifier = Modifier.padding(8.dp)) {
            Text(addendum.text)
            Text("Why: ${addendum.reason}")
            Text("By ${addendum.role ?: ""} ${addendum.author ?: ""} at ${addendum.at ?: ""}")
            if (addendum.changedPaths.isNotEmpty()) Text("Changes: ${addendum.changedPaths.joinToString(", ")}")
        }
    }
}

@Composable
fun AddendumForm(onAddendum: (String, List<AmendmentDraft>, String) -> Unit) {
    var text by remember { mutableStateOf("") }
    var reason by remember { mutableStateOf("") }
    var path by remember { mutableStateOf("") }
    var value by remember { mutableStateOf("") }
    Column {
        OutlinedTextField(value = text, onValueChange = { text = it }, label = { Text("Addendum") })
        OutlinedTextField(value = path, onValueChange = { path = it }, label = { Text("Field changed (optional)") })
        OutlinedTextField(value = value, onValueChange = { value = it }, label = { Text("New value (JSON, 330 = 33.0 kg)") })
        OutlinedTextField(value = reason, onValueChange = { reason = it }, label = { Text("Reason") })
        Button(
            onClick = {
                val changes = if (path.isBlank()) emptyList() else listOf(AmendmentDraft(path.trim(), value.trim()))
                onAddendum(text, changes, reason)
            },
            enabled = text.isNotBlank() && reason.isNotBlank(),
        ) { Text("Add addendum") }
    }
}

// Equipment request: AP measurement table with ranges and issues, items, justification, and the
// workflow actions the role may take (refused ones shown with their rule ID). Renders
// EquipmentRequestState only.
package app.homevisit.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import app.homevisit.core.TransitionDetails
import app.homevisit.core.WorkflowNeed
import app.homevisit.core.EquipmentStatus
import app.homevisit.core.MeasurementKey
import app.homevisit.presenters.ActionUi
import app.homevisit.presenters.EquipmentRequestState
import app.homevisit.presenters.MeasurementRow

@Composable
fun EquipmentRequestScreen(
    state: EquipmentRequestState,
    onMeasurement: (key: MeasurementKey, input: String) -> Unit,
    onJustification: (String) -> Unit,
    onAddItem: (description: String, quantity: Long) -> Unit,
    onValue: (path: String, input: String) -> Unit,
    onAction: (to: EquipmentStatus, details: TransitionDetails) -> Unit,
    onAcknowledge: (String, String, String) -> Unit,
    onDismissError: () -> Unit,
) {
    Column(modifier = Modifier.verticalScroll(rememberScrollState()).padding(8.dp)) {
        ChildBanner(state.banner)
        ErrorBanner(state.error, onDismissError)
        Text("${state.category ?: ""} · status ${state.status?.name?.lowercase()?.replace('_', ' ') ?: if (state.statusConflict) "in conflict (CF-STATUS)" else "new"} · you are ${state.role.name}", style = MaterialTheme.typography.titleMedium)
        Text("Measurements", style = MaterialTheme.typography.titleLarge)
        for (m in state.measurements) {
            MeasurementRowView(m, state.status == EquipmentStatus.DRAFT, onMeasurement, onAcknowledge)
        }
        Text("Items", style = MaterialTheme.typography.titleLarge)
        for (item in state.items) {
            Text("• ${item.summary}")
        }
        var description by remember { mutableStateOf("") }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedTextField(value = description, onValueChange = { description = it }, label = { Text("Item") })
            OutlinedButton(onClick = { onAddItem(description, 1); description = "" }, enabled = description.isNotBlank()) { Text("Add") }
        }
        var justification by remember(state.justification) { mutableStateOf(state.justification) }
        OutlinedTextField(
            value = justification,
            onValueChange = { justification = it },
            label = { Text("Clinical justification") },
            modifier = Modifier.fillMaxWidth(),
        )
        if (justification != state.justification) {
            OutlinedButton(onClick = { onJustification(justification) }) { Text("Save justification") }
        }
        for (row in state.fields) {
            FieldEditor(row, false, onValue, { _, _, _ -> }, onAcknowledge)
        }
        Text("Actions", style = MaterialTheme.typography.titleLarge)
        if (!state.canSubmit) Text("${state.issues.count { it.blocking }} issue(s) to clear before submitting")
        for (action in state.actions) {
            ActionView(action, onAction)
        }
        IssueList(state.issues.filter { !it.path.startsWith("measurements.") }, onAcknowledge)
    }
}

@Composable
fun MeasurementRowView(
    m: MeasurementRow,
    editable: Boolean,
    onMeasurement: (MeasurementKey, String) -> Unit,
    onAcknowledge: (String, String, String) -> Unit,
) {
    var typed by remember(m.key, m.input) { mutableStateOf(m.input) }
    Column(modifier = Modifier.padding(vertical = 4.dp)) {
        Text("${m.what}${if (m.required) " (required)" else ""} — usual ${m.softRange}, possible ${m.hardRange}")
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedTextField(
                value = typed,
                onValueChange = { typed = it },
                suffix = { Text(m.unit) },
                readOnly = !editable,
                isError = m.issues.any { it.isError },
            )
            if (editable && typed != m.input) {
                Button(onClick = { onMeasurement(m.key, typed) }) { Text("Save") }
            }
        }
        if (m.measuredOn != null) Text("Measured ${m.measuredOn}")
        for (issue in m.issues) {
            IssueView(issue, onAcknowledge)
        }
    }
}

@Composable
fun ActionView(action: ActionUi, onAction: (EquipmentStatus, TransitionDetails) -> Unit) {
    var reason by remember(action.to) { mutableStateOf("") }
    var date by remember(action.to) { mutableStateOf("") }
    Column(modifier = Modifier.padding(vertical = 4.dp)) {
        if (!action.permitted) {
            Text("${action.label} (${action.number}): not for your role [${action.refusalRuleId}]")
            return@Column
        }
        if (WorkflowNeed.REASON in action.needs) {
            OutlinedTextField(value = reason, onValueChange = { reason = it }, label = { Text("Reason") })
        }
        if (WorkflowNeed.EVENT_DATE in action.needs) {
            OutlinedTextField(value = date, onValueChange = { date = it }, label = { Text("Date (YYYY-MM-DD)") })
        }
        Button(
            onClick = {
                onAction(
                    action.to,
                    TransitionDetails(reason = reason.ifBlank { null }, eventDate = date.ifBlank { null }),
                )
            },
        ) { Text("${action.label} (${action.number})") }
    }
}

// M&H risk assessment: scalar fields, the TILEO checklist, the lifting equipment with SWL and
// LOLER dates, tasks with the risk matrix and the SWL check, and the sign button. Renders
// RiskAssessmentState only.
package app.homevisit.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.FilterChip
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
import app.homevisit.presenters.EquipmentRow
import app.homevisit.presenters.MhCodes
import app.homevisit.presenters.RatingUi
import app.homevisit.presenters.RiskAssessmentState
import app.homevisit.presenters.SwlUi
import app.homevisit.presenters.TaskRow
import app.homevisit.presenters.TileoRow

/** What the M&H screen can ask its presenter to do. */
class RiskAssessmentActions(
    val onValue: (path: String, input: String) -> Unit,
    val onTileo: (code: String, present: Boolean, notes: String) -> Unit,
    val onAddTask: (from: String, to: String) -> Unit,
    val onMethod: (taskId: String, method: String) -> Unit,
    val onRating: (taskId: String, stage: String, likelihood: Long, severity: Long) -> Unit,
    val onAddControl: (taskId: String, kind: String, text: String) -> Unit,
    val onAddEquipment: (kind: String, swlKg: String, lastExamOn: String, nextExamDueOn: String) -> Unit,
    val onUseEquipment: (taskId: String, slot: String, equipmentId: String) -> Unit,
    val onAcknowledge: (String, String, String) -> Unit,
    val onSign: () -> Unit,
    val onDismissError: () -> Unit,
)

@Composable
fun RiskAssessmentScreen(state: RiskAssessmentState, actions: RiskAssessmentActions) {
    Column(modifier = Modifier.verticalScroll(rememberScrollState()).padding(8.dp)) {
        ChildBanner(state.banner)
        ErrorBanner(state.error, actions.onDismissError)
        Text("Overall risk: ${state.overallBand?.name?.lowercase() ?: "not rated"}", style = MaterialTheme.typography.titleMedium)
        for (issue in state.swlIssues) {
            IssueView(issue, actions.onAcknowledge)
        }
        for (row in state.fields) {
            FieldEditor(row, state.readOnly, actions.onValue, { _, _, _ -> }, actions.onAcknowledge)
        }
        Text("TILEO", style = MaterialTheme.typography.titleLarge)
        for (item in state.tileo) {
            TileoRowView(item, state.readOnly, actions)
        }
        Text("Lifting equipment (LOLER)", style = MaterialTheme.typography.titleLarge)
        for (e in state.equipment) {
            EquipmentRowView(e, actions)
        }
        if (!state.readOnly) NewEquipmentForm(actions)
        Text("Tasks", style = MaterialTheme.typography.titleLarge)
        for (task in state.tasks) {
            TaskRowView(task, state.equipment, state.readOnly, actions)
        }
        if (!state.readOnly) {
            OutlinedButton(onClick = { actions.onAddTask("bed", "wheelchair") }) { Text("Add task") }
        }
        Button(onClick = actions.onSign, enabled = state.canSign) { Text("Sign") }
        Text("${state.issues.count { it.blocking }} issue(s) block signing; ${state.conflictCount} conflict(s)")
    }
}

@Composable
fun TileoRowView(item: TileoRow, readOnly: Boolean, actions: RiskAssessmentActions) {
    var notes by remember(item.code, item.notes) { mutableStateOf(item.notes) }
    Column(modifier = Modifier.padding(vertical = 4.dp)) {
        Text("${item.code} (${item.group}) ${item.label}")
        Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
            FilterChip(selected = item.hazardPresent == "yes", onClick = { if (!readOnly) actions.onTileo(item.code, true, notes) }, label = { Text("Hazard") })
            FilterChip(selected = item.hazardPresent == "no", onClick = { if (!readOnly) actions.onTileo(item.code, false, "") }, label = { Text("No hazard") })
        }
        if (item.hazardPresent == "yes") {
            OutlinedTextField(value = notes, onValueChange = { notes = it }, label = { Text("Notes") }, readOnly = readOnly)
            if (!readOnly && notes != item.notes) {
                OutlinedButton(onClick = { actions.onTileo(item.code, true, notes) }) { Text("Save notes") }
            }
        }
        for (issue in item.issues) {
            IssueView(issue, actions.onAcknowledge)
        }
    }
}

@Composable
fun EquipmentRowView(e: EquipmentRow, actions: RiskAssessmentActions) {
    Card(modifier = Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        Column(modifier = Modifier.padding(8.dp)) {
            Text("${e.label} · SWL ${e.swlKg ?: "—"} kg")
            Text("Examined ${e.lastExamOn ?: "—"} · next due ${e.nextExamDueOn ?: "—"}")
            if (e.integralSpreaderBar == true) Text("Integral spreader bar")
            for (issue in e.lolerIssues) {
                IssueView(issue, actions.onAcknowledge)
            }
        }
    }
}

@Composable
fun NewEquipmentForm(actions: RiskAssessmentActions) {
    var kind by remember { mutableStateOf(MhCodes.EQUIPMENT_KINDS.first()) }
    var swl by remember { mutableStateOf("") }
    var last by remember { mutableStateOf("") }
    var next by remember { mutableStateOf("") }
    Column {
        Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
            for (k in MhCodes.EQUIPMENT_KINDS) {
                FilterChip(selected = kind == k, onClick = { kind = k }, label = { Text(k.replace('_', ' ')) })
            }
        }
        OutlinedTextField(value = swl, onValueChange = { swl = it }, label = { Text("SWL (kg)") })
        OutlinedTextField(value = last, onValueChange = { last = it }, label = { Text("Last examined (YYYY-MM-DD)") })
        OutlinedTextField(value = next, onValueChange = { next = it }, label = { Text("Next examination due") })
        OutlinedButton(onClick = { actions.onAddEquipment(kind, swl, last, next) }, enabled = swl.isNotBlank()) { Text("Add equipment") }
    }
}

@Composable
fun TaskRowView(task: TaskRow, equipment: List<EquipmentRow>, readOnly: Boolean, actions: RiskAssessmentActions) {
    Card(modifier = Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        Column(modifier = Modifier.padding(8.dp)) {
            Text("${task.from ?: "?"} → ${task.to ?: "?"} · ${task.method ?: "method not set"} · carers ${task.carersRequired ?: "—"}")
            Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                for (m in MhCodes.METHODS) {
                    FilterChip(selected = task.method == m, onClick = { if (!readOnly) actions.onMethod(task.itemId, m) }, label = { Text(m.replace('_', ' ')) })
                }
            }
            RatingView("Initial", task.initial)
            RatingView("Residual", task.residual)
            if (!readOnly) {
                RatingPicker(task.itemId, "initial", actions)
                RatingPicker(task.itemId, "residual", actions)
            }
            for (c in task.controls) {
                Text("Control: $c")
            }
            if (!readOnly) {
                OutlinedButton(onClick = { actions.onAddControl(task.itemId, "technique_training", "Carers trained") }) { Text("Add control") }
            }
            if (task.usesHoist && !readOnly) {
                for ((slot, what) in MhCodes.SLOTS) {
                    Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                        Text(what)
                        for (e in equipment) {
                            val chosen = when (slot) {
                                "hoist_id" -> task.hoistId
                                "spreader_bar_id" -> task.spreaderBarId
                                else -> task.slingId
                            }
                            FilterChip(selected = chosen == e.itemId, onClick = { actions.onUseEquipment(task.itemId, slot, e.itemId) }, label = { Text(e.label) })
                        }
                    }
                }
            }
            val swl = task.swl
            if (swl != null) SwlView(swl)
            for (issue in task.issues) {
                IssueView(issue, actions.onAcknowledge)
            }
        }
    }
}

@Composable
fun RatingView(title: String, rating: RatingUi) {
    val text = if (rating.score == null) "not rated" else "L${rating.likelihood} × S${rating.severity} = ${rating.score} ${rating.bandLabel}"
    Text("$title: $text")
}

@Composable
fun RatingPicker(taskId: String, stage: String, actions: RiskAssessmentActions) {
    var likelihood by remember(taskId, stage) { mutableStateOf(1L) }
    Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
        Text(stage)
        for (l in 1L..5L) {
            FilterChip(selected = likelihood == l, onClick = { likelihood = l }, label = { Text("L$l") })
        }
        for (s in 1L..5L) {
            OutlinedButton(onClick = { actions.onRating(taskId, stage, likelihood, s) }) { Text("S$s") }
        }
    }
}

@Composable
fun SwlView(swl: SwlUi) {
    val verdict = when (swl.ruleId) {
        null -> "within SWL"
        else -> "[${swl.ruleId}]${if (swl.blocking) "" else " acknowledged"}"
    }
    Text(
        "Weight ${swl.weightKg ?: "—"} kg vs lowest SWL ${swl.lowestSwlKg} kg (${swl.lowestKind}): $verdict",
        color = if (swl.ruleId == "MH-SWL") ErrorRed else if (swl.ruleId != null) WarnAmber else MaterialTheme.colorScheme.onSurface,
    )
}

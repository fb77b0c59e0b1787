// Shared renderers: the child banner, the error banner, issue rows with their rule IDs and an
// acknowledgement box, and one editor per field kind. They only read presenter state and call
// the lambdas they are given.
package app.homevisit.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.AssistChip
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.Checkbox
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import app.homevisit.core.Banner
import app.homevisit.kit.UiError
import app.homevisit.presenters.FieldKind
import app.homevisit.presenters.FieldSpec
import app.homevisit.presenters.FieldRow
import app.homevisit.presenters.IssueRow

val ErrorRed = Color(0xFFB3261E)
val WarnAmber = Color(0xFF8A5A00)

/** SAF-WRONG-CHILD: name, DOB, NHS number 3-3-4 and alerts on every record screen. */
@Composable
fun ChildBanner(banner: Banner?) {
    if (banner == null) return
    Card(modifier = Modifier.fillMaxWidth().padding(8.dp)) {
        Column(modifier = Modifier.padding(12.dp)) {
            Text(banner.name, style = MaterialTheme.typography.titleLarge)
            Text("DOB ${banner.dateOfBirth ?: "—"} · NHS ${banner.nhsNumber ?: "not recorded"}")
            for (alert in banner.alerts) {
                Text("⚠ $alert", color = ErrorRed)
            }
        }
    }
}

/** The last error of an event, with its rule ID, dismissable. */
@Composable
fun ErrorBanner(error: UiError?, onDismiss: () -> Unit) {
    if (error == null) return
    Card(
        modifier = Modifier.fillMaxWidth().padding(8.dp),
        colors = CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.errorContainer),
    ) {
        Column(modifier = Modifier.padding(12.dp)) {
            Text(error.text, fontWeight = FontWeight.Bold)
            for (issue in error.issues) {
                Text("${issue.ruleId}: ${issue.detail}")
            }
            TextButton(onClick = onDismiss) { Text("Dismiss") }
        }
    }
}

/**
 * One issue: severity, rule ID and the core's sentence; a WARN that can be acknowledged gets a
 * reason box (FLD-ACK: 1–500 characters).
 */
@Composable
fun IssueView(issue: IssueRow, onAcknowledge: (ruleId: String, path: String, reason: String) -> Unit) {
    val color = if (issue.isError) ErrorRed else WarnAmber
    Column(modifier = Modifier.padding(vertical = 4.dp)) {
        val label = when {
            issue.isError -> "ERROR"
            issue.acknowledged -> "WARN (acknowledged)"
            else -> "WARN"
        }
        Text("$label [${issue.ruleId}] ${issue.text}", color = color)
        if (issue.canAcknowledge) {
            var reason by remember(issue.ruleId, issue.path) { mutableStateOf("") }
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                OutlinedTextField(value = reason, onValueChange = { reason = it }, label = { Text("Reason") })
                Button(onClick = { onAcknowledge(issue.ruleId, issue.path, reason) }, enabled = reason.isNotBlank()) {
                    Text("Acknowledge")
                }
            }
        }
    }
}

/** Issues in a list (a sign/submit panel). */
@Composable
fun IssueList(issues: List<IssueRow>, onAcknowledge: (String, String, String) -> Unit) {
    Column {
        for (issue in issues) {
            IssueView(issue, onAcknowledge)
        }
    }
}

/** A field with its editor, its conflict marker and its issues. */
@Composable
fun FieldEditor(
    row: FieldRow,
    readOnly: Boolean,
    onValue: (path: String, input: String) -> Unit,
    onToggle: (path: String, code: String, on: Boolean) -> Unit,
    onAcknowledge: (String, String, String) -> Unit,
) {
    Column(modifier = Modifier.fillMaxWidth().padding(vertical = 6.dp)) {
        val title = if (row.inConflict) "${row.label} — in conflict" else row.label
        Text(title, style = MaterialTheme.typography.labelLarge)
        when (row.kind) {
            FieldKind.CODE -> Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                for (option in row.options) {
                    FilterChip(
                        selected = row.input == option,
                        onClick = { if (!readOnly) onValue(row.path, option) },
                        label = { Text(option.replace('_', ' ')) },
                    )
                }
            }
            FieldKind.CODE_SET -> Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                for (option in row.options) {
                    val on = option in row.selected
                    FilterChip(
                        selected = on,
                        onClick = { if (!readOnly) onToggle(row.path, option, !on) },
                        label = { Text(option.replace('_', ' ')) },
                    )
                }
            }
            FieldKind.FLAG -> Row {
                Checkbox(checked = row.input == "true", onCheckedChange = { if (!readOnly) onValue(row.path, it.toString()) })
                Text(row.display)
            }
            else -> {
                var typed by remember(row.path, row.input) { mutableStateOf(row.input) }
                val keyboard = when (row.kind) {
                    FieldKind.INTEGER -> KeyboardType.Number
                    FieldKind.DECIMAL -> KeyboardType.Decimal
                    else -> KeyboardType.Text
                }
                OutlinedTextField(
                    value = typed,
                    onValueChange = { typed = it },
                    readOnly = readOnly,
                    singleLine = row.kind != FieldKind.LONG_TEXT,
                    suffix = { Text(row.unit ?: "") },
                    keyboardOptions = KeyboardOptions(keyboardType = keyboard),
                    isError = row.badge == "ERROR",
                    modifier = Modifier.fillMaxWidth(),
                )
                if (!readOnly && typed != row.input) {
                    TextButton(onClick = { onValue(row.path, typed) }) { Text("Save") }
                }
            }
        }
        if (row.badge.isNotEmpty()) {
            AssistChip(onClick = {}, label = { Text(row.badge) })
        }
        for (issue in row.issues) {
            IssueView(issue, onAcknowledge)
        }
    }
}

/**
 * A small form for a new list item: one box per item field; numbers are sent as numbers. The
 * core checks the values (an out-of-range quantity is kept and flagged).
 */
@Composable
fun ItemDraftEditor(fields: List<FieldSpec>, onAdd: (Map<String, Any?>) -> Unit) {
    var values by remember(fields) { mutableStateOf(fields.associate { it.path to "" }) }
    Column(modifier = Modifier.padding(vertical = 4.dp)) {
        for (f in fields) {
            OutlinedTextField(
                value = values[f.path] ?: "",
                onValueChange = { v -> values = values + (f.path to v) },
                label = { Text(f.label + (f.unit?.let { " ($it)" } ?: "")) },
            )
        }
        Button(
            onClick = {
                val typed = fields.mapNotNull { f ->
                    val v = values[f.path]?.trim().orEmpty()
                    when {
                        v.isEmpty() -> null
                        f.kind == FieldKind.INTEGER -> v.toLongOrNull()?.let { f.path to it }
                        else -> f.path to v
                    }
                }.toMap()
                onAdd(typed)
                values = fields.associate { it.path to "" }
            },
        ) { Text("Add") }
    }
}

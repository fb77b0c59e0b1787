// Child summary: banner, eligibility cards with rule IDs and reasons, the child's records and
// buttons to start new ones. Renders ChildSummaryState only.
package app.homevisit.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import app.homevisit.core.Service
import app.homevisit.core.EquipmentCategory
import app.homevisit.presenters.ChildSummaryState
import app.homevisit.presenters.EligibilityCard
import app.homevisit.presenters.EligibilityOutcome
import app.homevisit.presenters.ReasonRow
import app.homevisit.presenters.RecordRow
import app.homevisit.presenters.label

@Composable
fun ChildSummaryScreen(
    state: ChildSummaryState,
    onOpenRecord: (RecordRow) -> Unit,
    onEvaluate: (referralId: String) -> Unit,
    onNewReferral: (Service) -> Unit,
    onNewAssessment: (Service) -> Unit,
    onNewRiskAssessment: () -> Unit,
    onNewEquipmentRequest: (Service, EquipmentCategory) -> Unit,
    onDismissError: () -> Unit,
) {
    Column(modifier = Modifier.verticalScroll(rememberScrollState())) {
        ChildBanner(state.banner)
        ErrorBanner(state.error, onDismissError)
        for (card in state.eligibility) {
            EligibilityCardView(card, onEvaluate)
        }
        Text("Records", style = MaterialTheme.typography.titleMedium, modifier = Modifier.padding(8.dp))
        for (record in state.records) {
            RecordRowView(record, onOpenRecord)
        }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp), modifier = Modifier.padding(8.dp)) {
            OutlinedButton(onClick = { onNewReferral(Service.HEALTH) }) { Text("Referral") }
            OutlinedButton(onClick = { onNewAssessment(Service.SOCIAL_CARE) }) { Text("Home visit") }
            OutlinedButton(onClick = onNewRiskAssessment) { Text("M&H risk") }
            OutlinedButton(onClick = { onNewEquipmentRequest(Service.HEALTH, EquipmentCategory.SPECIALIST_SEATING) }) { Text("Equipment") }
        }
    }
}

@Composable
fun RecordRowView(record: RecordRow, onOpen: (RecordRow) -> Unit) {
    val flags = buildList {
        if (record.needsSignature) add("needs signature")
        if (record.conflictCount > 0) add("${record.conflictCount} conflict(s)")
        add(record.syncStatus.name.lowercase().replace('_', ' '))
    }
    ListItem(
        headlineContent = { Text("${record.kind?.label ?: "Record"}: ${record.title}") },
        supportingContent = { Text("${record.status} · ${flags.joinToString(" · ")} · ${record.updatedAt ?: ""}") },
        modifier = Modifier.clickable { onOpen(record) },
    )
}

@Composable
fun EligibilityCardView(card: EligibilityCard, onEvaluate: (String) -> Unit) {
    Card(modifier = Modifier.fillMaxWidth().padding(8.dp)) {
        Column(modifier = Modifier.padding(12.dp)) {
            Text(card.title, style = MaterialTheme.typography.titleMedium)
            val outcome = card.outcome
            Text(
                if (outcome == null) "Not evaluated" else "${outcome.label}${card.asOf?.let { " (as of $it)" } ?: ""}",
                color = if (outcome == EligibilityOutcome.NOT_ELIGIBLE) ErrorRed else MaterialTheme.colorScheme.onSurface,
            )
            for (reason in card.reasons) {
                ReasonView(reason)
            }
            if (card.missing.isNotEmpty()) Text("Missing: ${card.missing.joinToString(", ")}")
            for (part in card.declined) {
                ReasonView(part)
            }
            if (card.signposts.isNotEmpty()) Text("Signpost: ${card.signposts.joinToString(", ") { it.label }}")
            Button(onClick = { onEvaluate(card.referralId) }) { Text("Check eligibility") }
        }
    }
}

@Composable
fun ReasonView(reason: ReasonRow) {
    Text("[${reason.ruleId}] ${reason.text}${reason.signpost?.let { " → ${it.label}" } ?: ""}")
}

// Home-visit form: section tabs A–J with ERROR/WARN counts, the fields of the selected section
// with their issues, item lists, and the sign panel. Renders AssessmentFormState only.
package app.homevisit.app.ui

import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.ScrollableTabRow
import androidx.compose.material3.Tab
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import app.homevisit.presenters.AssessmentFormState
import app.homevisit.presenters.ItemListUi
import app.homevisit.presenters.SectionUi

@Composable
fun AssessmentFormScreen(
    state: AssessmentFormState,
    onSelectSection: (String) -> Unit,
    onValue: (path: String, input: String) -> Unit,
    onToggle: (path: String, code: String, on: Boolean) -> Unit,
    onAddItem: (listPath: String, fields: Map<String, Any?>) -> Unit,
    onAcknowledge: (String, String, String) -> Unit,
    onSign: () -> Unit,
    onOpenSignOff: () -> Unit,
    onDismissError: () -> Unit,
) {
    Column {
        ChildBanner(state.banner)
        ErrorBanner(state.error, onDismissError)
        val selected = state.sections.indexOfFirst { it.id == state.selectedSection }.coerceAtLeast(0)
        ScrollableTabRow(selectedTabIndex = selected) {
            for (section in state.sections) {
                Tab(
                    selected = section.id == state.selectedSection,
                    onClick = { onSelectSection(section.id) },
                    text = { SectionTabLabel(section) },
                )
            }
        }
        Column(modifier = Modifier.verticalScroll(rememberScrollState()).padding(8.dp)) {
            val section = state.current
            if (section != null) {
                SectionView(section, state.readOnly, onValue, onToggle, onAddItem, onAcknowledge)
            }
            if (state.selectedSection == "J" || state.canSign) {
                Text("Sign-off: ${state.signState?.name ?: ""}", style = MaterialTheme.typography.titleMedium)
                val blockers = state.issues.filter { it.blocking }
                Text("${blockers.size} issue(s) block signing")
                Button(onClick = onSign, enabled = state.canSign) { Text("Sign") }
                Button(onClick = onOpenSignOff) { Text("Countersign / addendum") }
            }
        }
    }
}

@Composable
fun SectionTabLabel(section: SectionUi) {
    val counts = buildList {
        if (section.errorCount > 0) add("${section.errorCount} ERROR")
        if (section.warnCount > 0) add("${section.warnCount} WARN")
    }
    Text(if (counts.isEmpty()) "${section.id} ${section.title}" else "${section.id} ${section.title} (${counts.joinToString(", ")})")
}

@Composable
fun SectionView(
    section: SectionUi,
    readOnly: Boolean,
    onValue: (String, String) -> Unit,
    onToggle: (String, String, Boolean) -> Unit,
    onAddItem: (String, Map<String, Any?>) -> Unit,
    onAcknowledge: (String, String, String) -> Unit,
) {
    Text("${section.id}. ${section.title}", style = MaterialTheme.typography.titleLarge)
    for (row in section.fields) {
        FieldEditor(row, readOnly, onValue, onToggle, onAcknowledge)
    }
    for (list in section.lists) {
        ItemListView(list, readOnly, onAddItem)
    }
}

@Composable
fun ItemListView(list: ItemListUi, readOnly: Boolean, onAddItem: (String, Map<String, Any?>) -> Unit) {
    Text(list.label, style = MaterialTheme.typography.titleMedium)
    for (item in list.items) {
        Text("• ${item.summary}")
    }
    if (!readOnly) {
        ItemDraftEditor(list.itemFields) { values -> onAddItem(list.path, values) }
    }
}

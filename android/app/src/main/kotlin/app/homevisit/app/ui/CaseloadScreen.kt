// Caseload: search, filters and the list of children. Renders CaseloadState only.
package app.homevisit.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Badge
import androidx.compose.material3.FilterChip
import androidx.compose.material3.ListItem
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import app.homevisit.presenters.CaseloadFilter
import app.homevisit.presenters.CaseloadRow
import app.homevisit.presenters.CaseloadState

@Composable
fun CaseloadScreen(
    state: CaseloadState,
    onSearch: (String) -> Unit,
    onFilter: (CaseloadFilter) -> Unit,
    onOpenChild: (String) -> Unit,
    onDismissError: () -> Unit,
) {
    Column {
        ErrorBanner(state.error, onDismissError)
        OutlinedTextField(
            value = state.query,
            onValueChange = onSearch,
            label = { Text("Search name, NHS number or date of birth") },
            modifier = Modifier.fillMaxWidth().padding(8.dp),
        )
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp), modifier = Modifier.padding(horizontal = 8.dp)) {
            for (f in CaseloadFilter.entries) {
                FilterChip(
                    selected = state.filter == f,
                    onClick = { onFilter(f) },
                    label = { Text(f.name.lowercase().replace('_', ' ')) },
                )
            }
        }
        Text("${state.rows.size} of ${state.totalChildren} children", modifier = Modifier.padding(8.dp))
        if (state.loading) {
            Text("Loading…", modifier = Modifier.padding(8.dp))
        }
        LazyColumn {
            items(state.rows, key = { it.childId }) { row: CaseloadRow ->
                CaseloadRowView(row, onOpenChild)
            }
        }
    }
}

@Composable
fun CaseloadRowView(row: CaseloadRow, onOpen: (String) -> Unit) {
    ListItem(
        headlineContent = { Text(row.name) },
        supportingContent = { Text("DOB ${row.dateOfBirth ?: "—"} · NHS ${row.nhsNumber ?: "—"} · ${row.recordCount} records") },
        trailingContent = {
            Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                if (row.awaitingSignatureCount > 0) Badge { Text("sign ${row.awaitingSignatureCount}") }
                if (row.unsyncedCount > 0) Badge { Text("unsynced ${row.unsyncedCount}") }
                if (row.conflictCount > 0) Badge { Text("conflict ${row.conflictCount}") }
            }
        },
        modifier = Modifier.clickable { onOpen(row.childId) },
    )
}

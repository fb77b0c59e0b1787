// Caseload screen: every child on this device with counts, search by name / NHS number / DOB,
// and filters for what needs attention.
package app.homevisit.presenters

import app.homevisit.core.CaseloadItem
import app.homevisit.core.SafeguardingStatus
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.UiError
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch

/** Which children the caseload shows. */
enum class CaseloadFilter {
    /** Everyone. */
    ALL,

    /** Children with a form waiting for a signature or countersignature. */
    NEEDS_SIGNATURE,

    /** Children with records the server lacks changes of (`SAF-LOST-EDIT`). */
    UNSYNCED,

    /** Children with records in conflict (`CF-CLINICAL`). */
    CONFLICTS,

    /** Children with a missed-visit warning (`CH-VISIT-MISSED`) or a safeguarding status. */
    SAFEGUARDING,
}

/**
 * One child in the list.
 *
 * @property name preferred name if any, else given + family name.
 * @property nhsNumber `943 476 5919` (3-3-4), when known.
 * @property safeguardingStatus child protection plan, child in need, looked after… when set.
 * @property missedVisitWarning `CH-VISIT-MISSED`: two missed visits, consider a safeguarding referral.
 */
data class CaseloadRow(
    val childId: String,
    val name: String,
    val dateOfBirth: String?,
    val nhsNumber: String?,
    val recordCount: Int,
    val awaitingSignatureCount: Int,
    val unsyncedCount: Int,
    val conflictCount: Int,
    val safeguardingStatus: SafeguardingStatus?,
    val missedVisitWarning: String?,
)

/**
 * @property query the search text (name, NHS number with or without spaces, DOB).
 * @property filter the active filter.
 * @property rows the children shown: matching [query] and [filter], by family name.
 * @property totalChildren children on the device, unfiltered.
 * @property loading the first caseload has not arrived yet.
 */
data class CaseloadState(
    val query: String = "",
    val filter: CaseloadFilter = CaseloadFilter.ALL,
    val rows: List<CaseloadRow> = emptyList(),
    val totalChildren: Int = 0,
    val loading: Boolean = true,
    val error: UiError? = null,
)

/** Formats ten digits as 3-3-4 (`SAF-WRONG-CHILD` banner style). */
fun nhs334(n: String?): String? {
    val d = n?.filter { it.isDigit() } ?: return null
    return if (d.length == 10) "${d.substring(0, 3)} ${d.substring(3, 6)} ${d.substring(6)}" else n
}

fun CaseloadItem.toRow() = CaseloadRow(
    childId = childId,
    name = listOfNotNull(preferredName?.takeIf { it.isNotBlank() } ?: givenName, familyName).joinToString(" ").ifBlank { "(no name)" },
    dateOfBirth = dateOfBirth,
    nhsNumber = nhs334(nhsNumber),
    recordCount = recordCount.toInt(),
    awaitingSignatureCount = awaitingSignatureCount.toInt(),
    unsyncedCount = unsyncedCount.toInt(),
    conflictCount = conflictCount.toInt(),
    safeguardingStatus = safeguardingStatus,
    missedVisitWarning = missedVisitWarning,
)

/**
 * Events: [search], [selectFilter], [refresh]. The list follows the store (the core's caseload
 * observer) while the presenter lives.
 */
class CaseloadPresenter(
    private val hv: HomeVisit,
    scope: CoroutineScope,
) : Presenter<CaseloadState>(CaseloadState(), scope) {
    private var all: List<CaseloadItem> = emptyList()

    init {
        this.scope.launch {
            hv.caseloadUpdates().collect { items ->
                all = items
                guarded { rebuild() }
            }
        }
    }

    override fun CaseloadState.withError(error: UiError?) = copy(error = error)

    /** Sets the search text; blank shows everyone. */
    fun search(text: String): Job {
        update { it.copy(query = text) }
        return act { rebuild() }
    }

    /** Shows only the children the filter selects. */
    fun selectFilter(filter: CaseloadFilter): Job {
        update { it.copy(filter = filter) }
        return act { rebuild() }
    }

    /** Reads the caseload again (pull to refresh). */
    fun refresh(): Job = act {
        all = hv.caseload()
        rebuild()
    }

    private suspend fun rebuild() {
        val s = state.value
        val matching = if (s.query.isBlank()) all else {
            val hits = hv.search(s.query).map { it.childId }.toSet()
            // Counts come from the observed caseload so a search shows the same badges.
            all.filter { it.childId in hits }
        }
        val rows = matching.filter {
            when (s.filter) {
                CaseloadFilter.ALL -> true
                CaseloadFilter.NEEDS_SIGNATURE -> it.awaitingSignatureCount > 0u
                CaseloadFilter.UNSYNCED -> it.unsyncedCount > 0u
                CaseloadFilter.CONFLICTS -> it.conflictCount > 0u
                CaseloadFilter.SAFEGUARDING -> it.missedVisitWarning != null ||
                    (it.safeguardingStatus != null && it.safeguardingStatus != SafeguardingStatus.NONE && it.safeguardingStatus != SafeguardingStatus.UNKNOWN)
            }
        }.map { it.toRow() }.sortedWith(compareBy({ it.name.substringAfterLast(' ').lowercase() }, { it.name.lowercase() }))
        val total = all.size
        // A rebuild for an older query or filter must not overwrite a newer one.
        update { if (it.query == s.query && it.filter == s.filter) it.copy(rows = rows, totalChildren = total, loading = false) else it }
    }
}

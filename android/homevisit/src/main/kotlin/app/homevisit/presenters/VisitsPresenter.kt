// Visits and safeguarding of one child (DOMAIN.md §3.7): the visits with their outcomes (seen,
// no access, was not brought, cancelled), the missed-visit warning (CH-VISIT-MISSED), the
// safeguarding status with the allocated social worker, and concerns raised.
package app.homevisit.presenters

import app.homevisit.core.Banner
import app.homevisit.core.SafeguardingConcernInput
import app.homevisit.core.SafeguardingStatus
import app.homevisit.core.SafeguardingUpdate
import app.homevisit.core.VisitItem
import app.homevisit.core.VisitOutcome
import app.homevisit.core.VisitPlace
import app.homevisit.core.VisitPlanInput
import app.homevisit.core.VisitResultInput
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.UiError
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.drop
import kotlinx.coroutines.launch

/** A visit in the child's list. [missed] is no access or was not brought (`CH-VISIT-MISSED`). */
data class VisitRow(
    val visitId: String,
    val plannedOn: String?,
    val place: VisitPlace?,
    val visitorName: String?,
    val outcome: VisitOutcome?,
    val outcomeLabel: String,
    val reason: String?,
    val followUp: String?,
    val assessmentId: String?,
    val missed: Boolean,
)

/** The label of a visit outcome; "Planned" while none is recorded. */
fun outcomeLabel(outcome: VisitOutcome?): String = when (outcome) {
    null -> "Planned"
    VisitOutcome.SEEN -> "Seen"
    VisitOutcome.NO_ACCESS -> "No access"
    VisitOutcome.WAS_NOT_BROUGHT -> "Was not brought / not available"
    VisitOutcome.CANCELLED_BY_FAMILY -> "Cancelled by the family"
    VisitOutcome.CANCELLED_BY_SERVICE -> "Cancelled by the service"
}

fun VisitItem.toRow() = VisitRow(
    visitId = visitId,
    plannedOn = plannedOn,
    place = place,
    visitorName = visitorName,
    outcome = outcome,
    outcomeLabel = outcomeLabel(outcome),
    reason = reason,
    followUp = followUp,
    assessmentId = assessmentId,
    missed = outcome == VisitOutcome.NO_ACCESS || outcome == VisitOutcome.WAS_NOT_BROUGHT,
)

/**
 * @property banner the child banner, with the safeguarding status and warnings.
 * @property visits newest planned date first.
 * @property missedVisitWarning `CH-VISIT-MISSED` ("consider a safeguarding referral"), when it applies.
 * @property safeguardingStatus the status; `UNKNOWN` until set.
 * @property safeguardingChanges how many attributed changes the safeguarding history holds.
 * @property lastVisitId the visit the last `recordVisit`/`planVisit` event made.
 */
data class VisitsState(
    val childId: String,
    val banner: Banner? = null,
    val visits: List<VisitRow> = emptyList(),
    val missedVisitWarning: String? = null,
    val safeguardingStatus: SafeguardingStatus? = null,
    val safeguardingLabel: String? = null,
    val socialWorker: String? = null,
    val safeguardingChanges: Int = 0,
    val lastVisitId: String? = null,
    val loading: Boolean = true,
    val error: UiError? = null,
)

/**
 * Events: [load], [planVisit], [recordVisit], [recordOutcome], [setSafeguarding],
 * [raiseConcern]. Follows the caseload observer, so visits recorded on another tablet appear
 * after sync. Refusals carry their rule IDs (`CH-VISIT-OUTCOME`, `CH-VISIT-SEEN`,
 * `CH-SG-STATUS`, `CH-SG-CONCERN`).
 */
class VisitsPresenter(
    private val hv: HomeVisit,
    childId: String,
    scope: CoroutineScope,
) : Presenter<VisitsState>(VisitsState(childId), scope) {
    private val childId = childId

    init {
        load()
        this.scope.launch { hv.caseloadUpdates().drop(1).collect { guarded { reload() } } }
    }

    override fun VisitsState.withError(error: UiError?) = copy(error = error)

    /** Reads the banner, visits and safeguarding history. */
    fun load(): Job = act { reload() }

    /** Plans a visit. */
    fun planVisit(plannedOn: String, place: VisitPlace, plannedTime: String? = null, visitorName: String? = null): Job = act {
        val id = hv.planVisit(childId, VisitPlanInput(plannedOn, plannedTime, place, visitorName))
        update { it.copy(lastVisitId = id) }
        reload()
    }

    /** Records a visit with its outcome at once (a visit where nobody answered needs no form). */
    fun recordVisit(
        plannedOn: String,
        place: VisitPlace,
        outcome: VisitOutcome,
        reason: String?,
        followUp: String?,
        assessmentId: String? = null,
    ): Job = act {
        val id = hv.recordVisit(
            childId,
            VisitPlanInput(plannedOn, null, place, null),
            VisitResultInput(outcome, reason, followUp, assessmentId),
        )
        update { it.copy(lastVisitId = id) }
        reload()
    }

    /** Records the outcome of a planned visit. */
    fun recordOutcome(visitId: String, outcome: VisitOutcome, reason: String?, followUp: String?, assessmentId: String? = null): Job = act {
        hv.recordVisitOutcome(childId, visitId, VisitResultInput(outcome, reason, followUp, assessmentId))
        reload()
    }

    /** Sets the safeguarding status and social worker (attributed, in the history). */
    fun setSafeguarding(update: SafeguardingUpdate): Job = act {
        hv.setSafeguarding(childId, update)
        reload()
    }

    /** Records a concern raised: what, to whom, when, reference. */
    fun raiseConcern(concern: SafeguardingConcernInput): Job = act {
        hv.addSafeguardingConcern(childId, concern)
        reload()
    }

    private suspend fun reload() = serially {
        val banner = hv.banner(childId)
        val visits = hv.visits(childId).map { it.toRow() }.sortedByDescending { it.plannedOn ?: "" }
        val changes = hv.safeguardingHistory(childId).size
        update {
            it.copy(
                banner = banner,
                visits = visits,
                missedVisitWarning = banner.warnings.firstOrNull { w -> w.ruleId == "CH-VISIT-MISSED" }?.detail,
                safeguardingStatus = banner.safeguardingStatus,
                safeguardingLabel = banner.safeguardingLabel,
                socialWorker = banner.socialWorker,
                safeguardingChanges = changes,
                loading = false,
            )
        }
    }
}

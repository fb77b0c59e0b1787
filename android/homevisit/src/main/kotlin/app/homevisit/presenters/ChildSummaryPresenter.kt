// Child summary: the banner (SAF-WRONG-CHILD), the child's records with their sign/sync state,
// and each referral's eligibility outcome with its rule IDs and reasons (DOMAIN.md §2.2).
package app.homevisit.presenters

import app.homevisit.core.Banner
import app.homevisit.core.EquipmentCategory
import app.homevisit.core.EligibilityDecision
import app.homevisit.core.Eligibility
import app.homevisit.core.RecordItem
import app.homevisit.core.RecordSchema
import app.homevisit.core.Service
import app.homevisit.core.Signpost
import app.homevisit.core.SyncStatus
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.Json
import app.homevisit.kit.UiError
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.drop
import kotlinx.coroutines.launch

/** The kinds of record a child has, by schema (docs/DOCUMENT-LAYOUT.md). */
enum class RecordKind(val schema: RecordSchema, val label: String) {
    CHILD(RecordSchema.CHILD, "Child"),
    REFERRAL(RecordSchema.REFERRAL, "Referral"),
    ASSESSMENT(RecordSchema.ASSESSMENT, "Home visit"),
    RISK_ASSESSMENT(RecordSchema.RISK_ASSESSMENT, "M&H risk assessment"),
    EQUIPMENT_REQUEST(RecordSchema.EQUIPMENT_REQUEST, "Equipment request"),
    ;

    companion object {
        /** `null` for a record whose schema this version does not know. */
        fun of(schema: RecordSchema?): RecordKind? = entries.firstOrNull { it.schema == schema }
    }
}

/** A record in the child's list. */
data class RecordRow(
    val recordId: String,
    val kind: RecordKind?,
    val title: String,
    val status: String,
    val updatedAt: String?,
    val syncStatus: SyncStatus,
    val conflictCount: Int,
    val needsSignature: Boolean,
)

fun RecordItem.toRow() = RecordRow(
    recordId = recordId,
    kind = RecordKind.of(schema),
    title = title,
    status = status,
    updatedAt = updatedAt,
    syncStatus = syncStatus,
    conflictCount = conflictCount.toInt(),
    needsSignature = needsSignature,
)

/** `eligible`, `not_eligible`, `needs_information` (DOMAIN.md §2.2). */
enum class EligibilityOutcome(val code: String, val label: String) {
    ELIGIBLE("eligible", "Eligible"),
    NOT_ELIGIBLE("not_eligible", "Not eligible"),
    NEEDS_INFORMATION("needs_information", "Needs information"),
    ;

    companion object {
        fun of(code: String): EligibilityOutcome? = entries.firstOrNull { it.code == code }

        /** The card's outcome for the core's decision. */
        fun of(decision: EligibilityDecision): EligibilityOutcome = when (decision) {
            EligibilityDecision.ELIGIBLE -> ELIGIBLE
            EligibilityDecision.NOT_ELIGIBLE -> NOT_ELIGIBLE
            EligibilityDecision.NEEDS_INFORMATION -> NEEDS_INFORMATION
        }
    }
}

/** A failing rule or a declined part: rule ID, sentence, and where to go instead. */
data class ReasonRow(val ruleId: String, val text: String, val signpost: Signpost? = null)

/** How a signpost reads to the family and the referrer. */
val Signpost.label: String
    get() = when (this) {
        Signpost.GRADUATED_OFFER_SENSORY -> "the graduated offer on sensory processing"
        Signpost.ASK_PROFESSIONAL_TO_REFER -> "ask a professional who knows the child to refer"
        Signpost.FAMILY_PARTNERSHIP_SERVICE -> "the Family Partnership Service"
        Signpost.WHEELCHAIR_SERVICE -> "the wheelchair service"
        Signpost.BEHAVIOUR_SUPPORT_TEAMS -> "the behaviour support teams"
        Signpost.OWN_AREA_SERVICE -> "the OT service of the child's GP's area"
        Signpost.ADULT_SERVICES -> "adult OT and social-care services"
    }

/** The case of a signpost code in a stored eligibility snapshot (`ask_professional_to_refer`); `null` for one this version does not know. */
fun signpostOf(code: String?): Signpost? = Signpost.entries.firstOrNull { it.name.lowercase() == code }

/**
 * One referral's eligibility.
 *
 * @property outcome `null` until evaluated.
 * @property reasons the failing rules in canonical order (not eligible).
 * @property missing field paths to complete (needs information).
 * @property declined parts the service does not do (never blocking alone).
 * @property asOf the date the rules were evaluated for (`SAF-ELIG-DATE`).
 */
data class EligibilityCard(
    val referralId: String,
    val title: String,
    val outcome: EligibilityOutcome?,
    val reasons: List<ReasonRow>,
    val signposts: List<Signpost>,
    val missing: List<String>,
    val declined: List<ReasonRow>,
    val asOf: String?,
)

/**
 * @property banner name, DOB, NHS number 3-3-4 and alerts, on every record screen.
 * @property records the child's records, newest first.
 * @property eligibility one card per referral.
 * @property lastCreatedId the record the last `create…` event made (the screen opens it).
 */
data class ChildSummaryState(
    val childId: String,
    val banner: Banner? = null,
    val records: List<RecordRow> = emptyList(),
    val eligibility: List<EligibilityCard> = emptyList(),
    val lastCreatedId: String? = null,
    val loading: Boolean = true,
    val error: UiError? = null,
)

fun Eligibility.toCard(referralId: String, title: String, asOf: String?) = EligibilityCard(
    referralId = referralId,
    title = title,
    outcome = EligibilityOutcome.of(outcome),
    reasons = ruleIds.mapIndexed { i, id -> ReasonRow(id, reasons.getOrElse(i) { "" }) },
    signposts = signpost,
    missing = missing,
    declined = declinedParts.map { ReasonRow(it.ruleId, it.reason, it.signpost) },
    asOf = asOf,
)

/** The card of a referral's stored snapshot (`eligibility` in its content), if evaluated. */
fun storedEligibility(referralId: String, title: String, content: Map<String, Any?>): EligibilityCard {
    val snap = content["eligibility"] as? Map<*, *>
    val o = snap?.get("outcome") as? Map<*, *>
    fun strings(k: String) = (o?.get(k) as? List<*>)?.map { it.toString() } ?: emptyList()
    val ids = strings("rule_ids")
    val reasons = strings("reasons")
    return EligibilityCard(
        referralId = referralId,
        title = title,
        outcome = (o?.get("result") as? String)?.let { EligibilityOutcome.of(it) },
        reasons = ids.mapIndexed { i, id -> ReasonRow(id, reasons.getOrElse(i) { "" }) },
        signposts = strings("signpost").mapNotNull { signpostOf(it) },
        missing = strings("missing"),
        declined = ((o?.get("declined_parts") as? List<*>) ?: emptyList<Any?>()).mapNotNull { p ->
            (p as? Map<*, *>)?.let { ReasonRow(it["rule_id"].toString(), it["reason"]?.toString() ?: "", signpostOf(it["signpost"] as? String)) }
        },
        asOf = snap?.get("as_of") as? String,
    )
}

/**
 * Events: [load], [evaluateEligibility], [createReferral], [createAssessment],
 * [createRiskAssessment], [createEquipmentRequest]. Follows the caseload observer, so records
 * arriving by sync appear.
 */
class ChildSummaryPresenter(
    private val hv: HomeVisit,
    childId: String,
    scope: CoroutineScope,
) : Presenter<ChildSummaryState>(ChildSummaryState(childId), scope) {
    private val childId = childId

    init {
        load()
        // Any change on the device (a new record, a sync) reloads; the first emission is now.
        this.scope.launch { hv.caseloadUpdates().drop(1).collect { guarded { reload() } } }
    }

    override fun ChildSummaryState.withError(error: UiError?) = copy(error = error)

    /** Reads banner, records and eligibility. */
    fun load(): Job = act { reload() }

    /**
     * Evaluates a referral's eligibility as of [asOf] (default: its `received_on`) and stores
     * the snapshot (DOMAIN.md §2.2 step 7).
     */
    fun evaluateEligibility(referralId: String, asOf: String? = null): Job = act {
        val e = hv.evaluateEligibility(referralId, asOf)
        reload()
        // The freshly evaluated outcome, even if the stored snapshot has not been re-read.
        update { s ->
            s.copy(eligibility = s.eligibility.map { if (it.referralId == referralId) e.toCard(referralId, it.title, it.asOf) else it })
        }
    }

    fun createReferral(service: Service): Job = create { hv.createReferral(childId, service) }
    fun createAssessment(service: Service): Job = create { hv.createAssessment(childId, service) }
    fun createRiskAssessment(): Job = create { hv.createRiskAssessment(childId) }

    /** A new equipment request; `WHEELCHAIR` is refused with `S-WHEELCHAIR`. */
    fun createEquipmentRequest(service: Service, category: EquipmentCategory): Job =
        create { hv.createEquipmentRequest(childId, service, category) }

    private fun create(make: suspend () -> String): Job = act {
        val id = make()
        update { it.copy(lastCreatedId = id) }
        reload()
    }

    private suspend fun reload() = serially {
        val banner = hv.banner(childId)
        val records = hv.recordsOfChild(childId).sortedByDescending { it.updatedAt ?: "" }
        val cards = records.filter { RecordKind.of(it.schema) == RecordKind.REFERRAL }.map {
            storedEligibility(it.recordId, it.title, Json.parseObject(hv.view(it.recordId).contentJson))
        }
        update { it.copy(banner = banner, records = records.map { r -> r.toRow() }, eligibility = cards, loading = false) }
    }
}

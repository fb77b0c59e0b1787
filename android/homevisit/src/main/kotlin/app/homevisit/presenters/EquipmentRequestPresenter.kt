// Equipment request (DOMAIN.md §3.6): AP measurement entry with range checks (FLD-HARD ERROR,
// FLD-SOFT WARN, EQ-MEAS-REQUIRED, EQ-MEAS-FIT), items and justification, and the workflow
// actions (W1–W19) the signed-in role may take. The table and the checks stay in the core: the
// actions come from Store.workflowActions and a refused move shows its rule ID.
package app.homevisit.presenters

import app.homevisit.core.Banner
import app.homevisit.core.WorkflowNeed
import app.homevisit.core.EquipmentStatus
import app.homevisit.core.FieldValue
import app.homevisit.core.MeasurementKey
import app.homevisit.core.MeasurementSpecInfo
import app.homevisit.core.MeasurementUnit
import app.homevisit.core.Role
import app.homevisit.core.TransitionDetails
import app.homevisit.core.measurementSpecs
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.Json
import app.homevisit.kit.UiError
import app.homevisit.kit.tenthsText
import java.time.LocalDate
import java.time.ZoneId
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** How a unit is written after a number (`kg`, `°`); a count has none. */
val MeasurementUnit.symbol: String
    get() = when (this) {
        MeasurementUnit.KG_TENTHS -> "kg"
        MeasurementUnit.CM_TENTHS -> "cm"
        MeasurementUnit.MM -> "mm"
        MeasurementUnit.DEGREES -> "°"
        MeasurementUnit.PENCE -> "p"
        MeasurementUnit.COUNT -> ""
    }

/**
 * One row of the AP measurement table.
 *
 * @property input the value as typed (`32.4` for kg, `280` for mm), empty when not measured.
 * @property required the category needs it at submit (`EQ-MEAS-REQUIRED`).
 * @property hardRange / softRange the ranges in the unit shown (`50–650 mm`).
 * @property issues `FLD-HARD`, `FLD-SOFT`, `EQ-MEAS-REQUIRED`, `EQ-MEAS-AGE`, `EQ-MEAS-FIT`.
 */
data class MeasurementRow(
    val key: MeasurementKey,
    val what: String,
    val unit: String,
    val decimal: Boolean,
    val input: String,
    val display: String,
    val measuredOn: String?,
    val required: Boolean,
    val hardRange: String,
    val softRange: String,
    val issues: List<IssueRow>,
)

/**
 * A workflow move from the current status.
 *
 * @property permitted the signed-in role may make it; otherwise [refusalRuleId] (`EQ-ROLE`).
 * @property needs what the move records, the fields of [TransitionDetails] to ask for.
 */
data class ActionUi(
    val to: EquipmentStatus,
    val number: String,
    val label: String,
    val permitted: Boolean,
    val refusalRuleId: String?,
    val needs: List<WorkflowNeed>,
)

/**
 * @property status the workflow status; `null` before the first move and under `CF-STATUS`.
 * @property statusConflict `CF-STATUS`: concurrent moves wait for an approver's choice.
 * @property role the signed-in role, which decides [actions].
 * @property measurements the AP measurement table; required rows first.
 * @property actions the moves listed from [status], permitted ones first.
 * @property canSubmit no ERROR, every WARN acknowledged (`EQ-SUBMIT-VALID`), no conflict.
 */
data class EquipmentRequestState(
    val recordId: String,
    val banner: Banner? = null,
    val category: String? = null,
    val status: EquipmentStatus? = null,
    val statusConflict: Boolean = false,
    val role: Role = Role.AP,
    val measurements: List<MeasurementRow> = emptyList(),
    val items: List<ItemRowUi> = emptyList(),
    val justification: String = "",
    val fields: List<FieldRow> = emptyList(),
    val actions: List<ActionUi> = emptyList(),
    val issues: List<IssueRow> = emptyList(),
    val canSubmit: Boolean = false,
    val conflictCount: Int = 0,
    val loading: Boolean = true,
    val error: UiError? = null,
)

/**
 * Events: [setMeasurement], [setJustification], [addRequestItem], [perform] and the shared
 * form events (setValue for `priority` / `estimated_cost_pence`, acknowledge…).
 */
class EquipmentRequestPresenter(
    hv: HomeVisit,
    recordId: String,
    scope: CoroutineScope,
    private val today: () -> LocalDate = { LocalDate.now(ZoneId.of("Europe/London")) },
) : RecordFormPresenter<EquipmentRequestState>(hv, recordId, EquipmentRequestState(recordId, role = hv.identity.role), scope) {

    companion object {
        val FIELDS = listOf(
            FieldSpec("priority", "Priority", FieldKind.CODE, listOf("routine", "urgent")),
            FieldSpec("estimated_cost_pence", "Estimated cost (pence)", FieldKind.INTEGER, unit = "p"),
        )

        val ACTION_LABELS = mapOf(
            EquipmentStatus.SUBMITTED to "Submit",
            EquipmentStatus.INFO_REQUESTED to "Ask for information",
            EquipmentStatus.APPROVED to "Approve",
            EquipmentStatus.DECLINED to "Decline",
            EquipmentStatus.ORDERED to "Record order",
            EquipmentStatus.DELIVERED to "Record delivery",
            EquipmentStatus.INSTALLED to "Record installation",
            EquipmentStatus.REVIEWED to "Record review",
            EquipmentStatus.RETURNED to "Record return",
            EquipmentStatus.CLOSED to "Close",
            EquipmentStatus.CANCELLED to "Cancel request",
            EquipmentStatus.REFERRED_TO_DFG to "Refer for a DFG",
            EquipmentStatus.DFG_APPROVED to "DFG approved",
            EquipmentStatus.DFG_DECLINED to "DFG declined",
        )
    }

    private val specs: List<MeasurementSpecInfo> = measurementSpecs()

    // Read with the record on every reload (the category decides what is required).
    @Volatile private var required: List<MeasurementKey> = emptyList()

    @Volatile private var workflow: app.homevisit.core.WorkflowView? = null

    init {
        start()
    }

    override fun EquipmentRequestState.withError(error: UiError?) = copy(error = error)

    override fun spec(path: String): FieldSpec? = FIELDS.firstOrNull { it.path == path }

    /**
     * Records a measurement as typed (kg and cm with one decimal, others whole mm), measured
     * [measuredOn] (default today). Out-of-range values are kept and flagged.
     */
    fun setMeasurement(key: MeasurementKey, input: String, measuredOn: String? = null): Job = act {
        val spec = specs.firstOrNull { it.key == key } ?: throw InputFormatException("FLD-FORMAT", "`$key` is not a measurement")
        val base = spec.path
        hv.setField(recordId, "$base.value", fieldValueOf(if (spec.tenths) FieldKind.DECIMAL else FieldKind.INTEGER, input))
        if (input.isNotBlank()) hv.setField(recordId, "$base.measured_on", FieldValue.Text(measuredOn ?: today().toString()))
        refresh()
    }

    /** The clinical justification (free text, merges with concurrent typing). */
    fun setJustification(text: String): Job = act {
        hv.setText(recordId, "clinical_justification", text)
        refresh()
    }

    /** Adds an item to the request (description, quantity 1–10). */
    fun addRequestItem(description: String, quantity: Long): Job =
        addItem("items", mapOf("description" to description, "quantity" to quantity))

    /**
     * Moves the request to [to] with what that move records. A
     * refusal (`EQ-ROLE`, `EQ-APPROVE-SELF`, `EQ-SUBMIT-VALID`…) shows as the error.
     */
    fun perform(to: EquipmentStatus, details: TransitionDetails = TransitionDetails()): Job = act {
        try {
            hv.transition(recordId, to, details)
        } finally {
            refresh()
        }
    }

    private suspend fun refresh() = reloadSerially()

    override suspend fun reload() {
        required = hv.requiredMeasurements(recordId)
        workflow = hv.workflowActions(recordId)
        super.reload()
    }

    override fun EquipmentRequestState.from(snapshot: RecordSnapshot): EquipmentRequestState {
        val c = snapshot.content
        val issues = snapshot.issues
        fun range(lo: Long, hi: Long, s: MeasurementSpecInfo) =
            if (s.tenths) "${tenthsText(lo)}–${tenthsText(hi)} ${s.unit.symbol}" else "$lo–$hi ${s.unit.symbol}"
        val rows = specs.map { s ->
            val m = Json.at(c, s.path) as? Map<*, *>
            val v = m?.get("value") as? Long
            MeasurementRow(
                key = s.key,
                what = s.what,
                unit = s.unit.symbol,
                decimal = s.tenths,
                input = v?.let { if (s.tenths) tenthsText(it) else it.toString() } ?: "",
                display = v?.let { if (s.tenths) "${tenthsText(it)} ${s.unit.symbol}" else "$it ${s.unit.symbol}" } ?: "—",
                measuredOn = m?.get("measured_on") as? String,
                required = s.key in required,
                hardRange = range(s.hardMin, s.hardMax, s),
                softRange = range(s.softMin, s.softMax, s),
                issues = issues.under(s.path),
            )
        }.sortedBy { !it.required }
        val wf = workflow
        val actions = wf?.actions.orEmpty().map {
            ActionUi(it.to, it.number, ACTION_LABELS[it.to] ?: it.to.name, it.permitted, it.refusalRuleId, it.needs)
        }.sortedBy { !it.permitted }
        return copy(
            banner = snapshot.view.banner,
            category = c["category"] as? String,
            status = if (wf != null) wf.status else status,
            statusConflict = wf?.statusConflict ?: statusConflict,
            measurements = rows,
            items = liveItems(c, "items").map { item ->
                ItemRowUi(item["item_id"].toString(), listOfNotNull(item["description"] as? String, (item["quantity"] as? Long)?.let { "× $it" }).joinToString(" "))
            },
            justification = c["clinical_justification"] as? String ?: "",
            fields = FIELDS.map { fieldRow(it, c, issues, snapshot.conflictPaths) },
            actions = actions,
            issues = issues,
            canSubmit = snapshot.blockers.isEmpty() && snapshot.view.conflicts.isEmpty(),
            conflictCount = snapshot.view.conflicts.size,
            loading = false,
        )
    }
}

// M&H risk assessment (DOMAIN.md §3.5): TILEO checklist, handling tasks with initial and
// residual risk (the matrix, MH-SCORE), the lifting equipment with its SWL and LOLER dates, and
// the SWL check of each hoisted task (MH-SWL ERROR, MH-SWL-MARGIN WARN). The rules run in the
// core; this screen shows their issues with rule IDs and blocks signing while they stand.
package app.homevisit.presenters

import app.homevisit.core.CarerTrainingInput
import app.homevisit.core.RiskBand
import app.homevisit.core.TraineeRole
import app.homevisit.core.Banner
import app.homevisit.core.FieldValue
import app.homevisit.core.SignState
import app.homevisit.core.riskScore
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.Json
import app.homevisit.kit.UiError
import app.homevisit.kit.tenthsText
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** The TILEO items (DOMAIN.md §3.5) in checklist order: code, group, label. */
object Tileo {
    data class Item(val code: String, val group: String, val label: String)

    val ITEMS = listOf(
        Item("T1", "Task", "Lifting most of the child's weight"),
        Item("T2", "Task", "Stooping, twisting, reaching"),
        Item("T3", "Task", "Frequent or prolonged handling"),
        Item("T4", "Task", "Low or cramped position (floor, bath, car)"),
        Item("I1", "Individual", "Carer health, injury, pregnancy, fatigue"),
        Item("I2", "Individual", "Untrained in technique or equipment"),
        Item("I3", "Individual", "Second carer not reliably there"),
        Item("I4", "Individual", "Shared or respite carers new to the child"),
        Item("L1", "Load", "Weight or size"),
        Item("L2", "Load", "Unpredictable movement or behaviour"),
        Item("L3", "Load", "Medical (seizures, fragile bones, pain, tubes, recent surgery)"),
        Item("L4", "Load", "Tone, spasms, contractures"),
        Item("L5", "Load", "Limited understanding or cooperation"),
        Item("E1", "Environment", "Restricted space"),
        Item("E2", "Environment", "Steps, uneven or wet floors"),
        Item("E3", "Environment", "Fixed-height furniture"),
        Item("E4", "Environment", "Lighting, temperature, clutter"),
        Item("O1", "Other", "Equipment condition or suitability"),
        Item("O2", "Other", "Clothing, footwear, splints"),
        Item("O3", "Other", "Other"),
    )
}

/** Codes of the M&H record (DOMAIN.md §3.5). */
object MhCodes {
    val PLACES = listOf("bed", "cot", "wheelchair", "seating_system", "toilet", "commode", "bath", "shower_chair", "changing_bench", "floor", "car", "standing_frame", "other")
    val METHODS = listOf("independent", "supervision", "one_carer", "two_carers", "hoist_mobile", "hoist_ceiling", "slide_sheet", "transfer_board")
    val HOIST_METHODS = setOf("hoist_mobile", "hoist_ceiling")
    val CONTROLS = listOf("equipment_provided", "equipment_changed", "technique_training", "two_carers", "environment_change", "task_avoided", "child_engagement_strategy", "plan_review", "onward_referral", "other")
    val EQUIPMENT_KINDS = listOf("hoist_mobile", "hoist_ceiling", "hoist_bath", "spreader_bar", "sling")
    val SLING_TYPES = listOf("hammock_full_body", "divided_leg", "toileting_access", "bathing", "in_situ", "other")

    /** The task fields that reference equipment, and the kind each takes. */
    val SLOTS = listOf("hoist_id" to "hoist", "spreader_bar_id" to "spreader bar", "sling_id" to "sling")
}

/** One TILEO row: `hazardPresent` is `yes`, `no` or `null` (unanswered, `MH-TILEO`). */
data class TileoRow(val code: String, val group: String, val label: String, val hazardPresent: String?, val notes: String, val issues: List<IssueRow>)

/** Likelihood × severity with the band the core computes (`MH-SCORE`). */
data class RatingUi(val likelihood: Long?, val severity: Long?, val score: Long?, val band: RiskBand?, val bandLabel: String?)

/**
 * The SWL check of a hoisted task.
 *
 * @property lowestSwlKg the lowest SWL of the task's hoist, spreader bar and sling, `50.0`.
 * @property lowestKind which equipment has it (`sling`).
 * @property weightKg the child's weight on the form, `52.3`.
 * @property ruleId `MH-SWL` (ERROR: weight above the lowest SWL), `MH-SWL-MARGIN` (WARN: within
 *   10 %), or `null` when clear, as the core reports it.
 */
data class SwlUi(val lowestSwlKg: String, val lowestKind: String, val weightKg: String?, val ruleId: String?, val blocking: Boolean)

/** A handling task with its risk ratings, controls, equipment and issues. */
data class TaskRow(
    val itemId: String,
    val from: String?,
    val to: String?,
    val method: String?,
    val usesHoist: Boolean,
    val carersRequired: Long?,
    val hoistId: String?,
    val spreaderBarId: String?,
    val slingId: String?,
    val initial: RatingUi,
    val residual: RatingUi,
    val controls: List<String>,
    val swl: SwlUi?,
    val issues: List<IssueRow>,
)

/**
 * A hoist, spreader bar or sling with its LOLER dates.
 *
 * @property lolerIssues `MH-LOLER-DUE` (ERROR), `MH-LOLER-INTERVAL`, `MH-LOLER-SOON` (WARN) and
 *   `MH-SWL-MISSING` for this item.
 */
data class EquipmentRow(
    val itemId: String,
    val kind: String?,
    val label: String,
    val swlKg: String?,
    val integralSpreaderBar: Boolean?,
    val lastExamOn: String?,
    val nextExamDueOn: String?,
    val lolerIssues: List<IssueRow>,
)

/**
 * @property fields the scalar fields (date, location, weight and its date, height, carers,
 *   review date, task stopped).
 * @property overallBand the band of the highest residual score (`LOW`…`EXTREME`).
 * @property swlIssues every `MH-SWL`/`MH-SWL-MARGIN` issue, for the summary banner.
 * @property canSign nothing blocks signing.
 */
/**
 * A carer training record (DOMAIN.md §3.5): who, on which task, hoist and sling, by whom, when,
 * competent or not, and its review date. [issues] are its `MH-TRAINING-REF` findings.
 */
data class TrainingRow(
    val itemId: String,
    val traineeName: String?,
    val traineeRole: String?,
    val taskId: String?,
    val hoistId: String?,
    val slingId: String?,
    val trainedBy: String?,
    val trainedOn: String?,
    val competent: Boolean?,
    val reviewDueOn: String?,
    val issues: List<IssueRow>,
)

data class RiskAssessmentState(
    val recordId: String,
    val banner: Banner? = null,
    val signState: SignState? = null,
    val fields: List<FieldRow> = emptyList(),
    val tileo: List<TileoRow> = emptyList(),
    val tasks: List<TaskRow> = emptyList(),
    val equipment: List<EquipmentRow> = emptyList(),
    val training: List<TrainingRow> = emptyList(),
    val trainingIssues: List<IssueRow> = emptyList(),
    val overallBand: RiskBand? = null,
    val issues: List<IssueRow> = emptyList(),
    val swlIssues: List<IssueRow> = emptyList(),
    val canSign: Boolean = false,
    val readOnly: Boolean = false,
    val conflictCount: Int = 0,
    val loading: Boolean = true,
    val error: UiError? = null,
)

/**
 * Events: [setTileo], [addTask], [setTaskMethod], [setRating], [addControl], [addEquipment],
 * [useEquipment], [setWeight] and the shared form events (setValue, acknowledge, sign…).
 */
class RiskAssessmentPresenter(
    hv: HomeVisit,
    recordId: String,
    scope: CoroutineScope,
) : RecordFormPresenter<RiskAssessmentState>(hv, recordId, RiskAssessmentState(recordId), scope) {

    companion object {
        val FIELDS = listOf(
            FieldSpec("assessment_date", "Assessment date", FieldKind.DATE),
            FieldSpec("location", "Location", FieldKind.CODE, listOf("home", "school", "respite", "other")),
            FieldSpec("avoidance_considered.decision", "Can hazardous handling be avoided?", FieldKind.CODE, listOf("avoided", "partly", "not_possible")),
            FieldSpec("avoidance_considered.text", "Why", FieldKind.TEXT),
            FieldSpec("child_weight_kg", "Child's weight", FieldKind.DECIMAL, unit = "kg"),
            FieldSpec("child_weight_measured_on", "Weighed on", FieldKind.DATE),
            FieldSpec("child_height_cm", "Child's height", FieldKind.DECIMAL, unit = "cm"),
            FieldSpec("carers_available", "Carers available", FieldKind.INTEGER),
            FieldSpec("review_due_on", "Review due", FieldKind.DATE),
            FieldSpec("task_stopped_pending_review", "Task stopped pending review", FieldKind.FLAG),
        )
    }

    init {
        start()
    }

    override fun RiskAssessmentState.withError(error: UiError?) = copy(error = error)

    override fun spec(path: String): FieldSpec? = FIELDS.firstOrNull { it.path == path } ?: taskFieldSpec(path)

    private fun taskFieldSpec(path: String): FieldSpec? {
        val last = path.substringAfterLast('.')
        return when {
            path.startsWith("lifting_equipment.") && last == "swl_kg" -> FieldSpec(path, "SWL", FieldKind.DECIMAL, unit = "kg")
            last == "likelihood" || last == "severity" || last == "carers_required" -> FieldSpec(path, last, FieldKind.INTEGER)
            last == "integral_spreader_bar" || last == "task_stopped_pending_review" -> FieldSpec(path, last, FieldKind.FLAG)
            last == "hazard_present" -> FieldSpec(path, last, FieldKind.CODE, listOf("yes", "no"))
            last.endsWith("_on") -> FieldSpec(path, last, FieldKind.DATE)
            last == "notes" -> FieldSpec(path, last, FieldKind.TEXT)
            else -> null
        }
    }

    /** The child's weight (kg, one decimal) and when it was measured. */
    fun setWeight(kg: String, measuredOn: String): Job = act {
        hv.write(recordId, FIELDS.first { it.path == "child_weight_kg" }, kg)
        hv.setField(recordId, "child_weight_measured_on", fieldValueOf(FieldKind.DATE, measuredOn))
        reloadSerially()
    }

    /** Answers a TILEO item; a present hazard needs notes (`MH-TILEO`). */
    fun setTileo(code: String, present: Boolean, notes: String = ""): Job = act {
        require(Tileo.ITEMS.any { it.code == code }) { "no TILEO item $code" }
        hv.setField(recordId, "tileo.$code.hazard_present", FieldValue.Text(if (present) "yes" else "no"))
        if (notes.isNotBlank()) hv.setField(recordId, "tileo.$code.notes", FieldValue.Text(notes.trim()))
        reloadSerially()
    }

    /** Adds a handling task from one place to another; its id is [lastAddedItemId]. */
    fun addTask(from: String, to: String): Job = addItem("tasks", mapOf("from" to from, "to" to to))

    /** Sets how a task is done (`hoist_mobile`, `two_carers`…) and how many carers it needs. */
    fun setTaskMethod(taskId: String, method: String, carersRequired: Long? = null): Job = act {
        hv.setField(recordId, "tasks.$taskId.method", FieldValue.Text(method))
        if (carersRequired != null) hv.setField(recordId, "tasks.$taskId.carers_required", FieldValue.Integer(carersRequired))
        reloadSerially()
    }

    /** Rates a task's risk before (`initial`) or with (`residual`) its controls, each 1–5. */
    fun setRating(taskId: String, stage: String, likelihood: Long, severity: Long): Job = act {
        require(stage == "initial" || stage == "residual") { "stage is initial or residual" }
        hv.setField(recordId, "tasks.$taskId.$stage.likelihood", FieldValue.Integer(likelihood))
        hv.setField(recordId, "tasks.$taskId.$stage.severity", FieldValue.Integer(severity))
        reloadSerially()
    }

    /** Adds a control measure to a task (`MH-CONTROLS`). */
    fun addControl(taskId: String, kind: String, text: String): Job =
        addItem("tasks.$taskId.controls", mapOf("kind" to kind, "text" to text))

    /**
     * Adds a hoist, spreader bar or sling with its SWL (kg, one decimal) and LOLER dates; its id
     * is [lastAddedItemId].
     */
    fun addEquipment(
        kind: String,
        swlKg: String,
        lastExamOn: String?,
        nextExamDueOn: String?,
        integralSpreaderBar: Boolean? = null,
        makeModel: String? = null,
    ): Job = act {
        val fields = buildMap<String, Any?> {
            put("kind", kind)
            if (makeModel != null) put("model", makeModel)
            if (integralSpreaderBar != null) put("integral_spreader_bar", integralSpreaderBar)
        }
        val id = hv.addItem(recordId, "lifting_equipment", Json.write(fields))
        val base = "lifting_equipment.$id"
        hv.setField(recordId, "$base.swl_kg", fieldValueOf(FieldKind.DECIMAL, swlKg))
        if (lastExamOn != null) hv.setField(recordId, "$base.last_exam_on", FieldValue.Text(lastExamOn))
        if (nextExamDueOn != null) hv.setField(recordId, "$base.next_exam_due_on", FieldValue.Text(nextExamDueOn))
        lastEquipmentId = id
        reloadSerially()
    }

    /** The id of the equipment the last [addEquipment] created. */
    @Volatile
    var lastEquipmentId: String? = null
        private set

    /** Links a task to equipment: [slot] is `hoist_id`, `spreader_bar_id` or `sling_id`. */
    fun useEquipment(taskId: String, slot: String, equipmentId: String): Job = act {
        require(MhCodes.SLOTS.any { it.first == slot }) { "slot is hoist_id, spreader_bar_id or sling_id" }
        hv.setField(recordId, "tasks.$taskId.$slot", FieldValue.Text(equipmentId))
        reloadSerially()
    }

    /**
     * Records that [traineeName] was trained on a task with a hoist and sling, by whom and when,
     * whether found competent, and when it is reviewed (`MH-CARER-TRAINED`).
     */
    fun addCarerTraining(
        taskId: String,
        traineeName: String,
        traineeRole: TraineeRole,
        hoistId: String?,
        slingId: String?,
        trainedBy: String,
        trainedOn: String,
        competent: Boolean,
        reviewDueOn: String?,
    ): Job = act {
        hv.addCarerTraining(
            recordId,
            CarerTrainingInput(traineeName, traineeRole, taskId, hoistId, slingId, trainedBy, trainedOn, competent, reviewDueOn),
        )
        reloadSerially()
    }

    override fun RiskAssessmentState.from(snapshot: RecordSnapshot): RiskAssessmentState {
        val c = snapshot.content
        val issues = snapshot.issues
        val equipment = liveItems(c, "lifting_equipment").map { e ->
            val id = e["item_id"].toString()
            EquipmentRow(
                itemId = id,
                kind = e["kind"] as? String,
                label = listOfNotNull(e["kind"] as? String, e["make"] as? String, e["model"] as? String).joinToString(" "),
                swlKg = (e["swl_kg"] as? Long)?.let { tenthsText(it) },
                integralSpreaderBar = e["integral_spreader_bar"] as? Boolean,
                lastExamOn = e["last_exam_on"] as? String,
                nextExamDueOn = e["next_exam_due_on"] as? String,
                lolerIssues = issues.under("lifting_equipment.$id"),
            )
        }
        val swlOf = liveItems(c, "lifting_equipment").associate { it["item_id"].toString() to (it["swl_kg"] as? Long to (it["kind"] as? String ?: "")) }
        val weight = c["child_weight_kg"] as? Long
        val tasks = liveItems(c, "tasks").map { t ->
            val id = t["item_id"].toString()
            val method = t["method"] as? String
            val taskIssues = issues.under("tasks.$id")
            val used = MhCodes.SLOTS.mapNotNull { (slot, _) -> (t[slot] as? String)?.let { swlOf[it] } }
                .mapNotNull { (swl, kind) -> swl?.let { it to kind } }
            val lowest = used.minByOrNull { it.first }
            val swlIssue = taskIssues.firstOrNull { it.ruleId == "MH-SWL" } ?: taskIssues.firstOrNull { it.ruleId == "MH-SWL-MARGIN" }
            TaskRow(
                itemId = id,
                from = t["from"] as? String,
                to = t["to"] as? String,
                method = method,
                usesHoist = method in MhCodes.HOIST_METHODS,
                carersRequired = t["carers_required"] as? Long,
                hoistId = t["hoist_id"] as? String,
                spreaderBarId = t["spreader_bar_id"] as? String,
                slingId = t["sling_id"] as? String,
                initial = rating(t["initial"]),
                residual = rating(t["residual"]),
                controls = liveItems(t, "controls").map { listOfNotNull(it["kind"] as? String, it["text"] as? String).joinToString(": ") },
                swl = lowest?.let { (swl, kind) ->
                    SwlUi(tenthsText(swl), kind.replace('_', ' '), weight?.let { tenthsText(it) }, swlIssue?.ruleId, swlIssue?.blocking ?: false)
                },
                issues = taskIssues,
            )
        }
        val tileo = Tileo.ITEMS.map { item ->
            val a = Json.at(c, "tileo.${item.code}") as? Map<*, *>
            TileoRow(item.code, item.group, item.label, a?.get("hazard_present") as? String, a?.get("notes") as? String ?: "", issues.under("tileo.${item.code}"))
        }
        val overall = tasks.mapNotNull { it.residual.score }.maxOrNull()?.let { max ->
            tasks.first { it.residual.score == max }.residual.band
        }
        val training = liveItems(c, "carer_training").map { t ->
            val id = t["item_id"].toString()
            TrainingRow(
                itemId = id,
                traineeName = t["trainee_name"] as? String,
                traineeRole = t["trainee_role"] as? String,
                taskId = t["task_id"] as? String,
                hoistId = t["hoist_id"] as? String,
                slingId = t["sling_id"] as? String,
                trainedBy = t["trained_by"] as? String,
                trainedOn = t["trained_on"] as? String,
                competent = t["competent"] as? Boolean,
                reviewDueOn = t["review_due_on"] as? String,
                issues = issues.under("carer_training.$id"),
            )
        }
        return copy(
            banner = snapshot.view.banner,
            signState = snapshot.view.signState,
            training = training,
            trainingIssues = issues.filter { it.ruleId == "MH-CARER-TRAINED" || it.ruleId == "MH-TRAINING-REF" },
            fields = FIELDS.map { fieldRow(it, c, issues, snapshot.conflictPaths) },
            tileo = tileo,
            tasks = tasks,
            equipment = equipment,
            overallBand = overall,
            issues = issues,
            swlIssues = issues.filter { it.ruleId == "MH-SWL" || it.ruleId == "MH-SWL-MARGIN" },
            canSign = snapshot.view.signState == SignState.DRAFT && snapshot.blockers.isEmpty() && snapshot.view.conflicts.isEmpty(),
            readOnly = snapshot.view.signState != SignState.DRAFT,
            conflictCount = snapshot.view.conflicts.size,
            loading = false,
        )
    }

    private fun rating(raw: Any?): RatingUi {
        val m = raw as? Map<*, *>
        val l = m?.get("likelihood") as? Long
        val s = m?.get("severity") as? Long
        val score = if (l != null && s != null) runCatching { riskScore(l, s) }.getOrNull() else null
        return RatingUi(l, s, score?.score, score?.band, score?.label)
    }
}

// Home-visit assessment form, sections A–J, with ERROR/WARN under each field (rule ID shown)
// and warning acknowledgement.
package app.homevisit.presenters

import app.homevisit.core.Banner
import app.homevisit.core.SignState
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.UiError
import app.homevisit.kit.displayValue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** One item of a list, summarised (`Mum (mother)`). */
data class ItemRowUi(val itemId: String, val summary: String)

/** A list in a section: its items and the fields a new item takes. */
data class ItemListUi(val path: String, val label: String, val itemFields: List<FieldSpec>, val items: List<ItemRowUi>)

/**
 * One section A–J.
 *
 * @property errorCount ERRORs in the section (tab badge).
 * @property warnCount unacknowledged WARNs in the section.
 */
data class SectionUi(
    val id: String,
    val title: String,
    val fields: List<FieldRow>,
    val lists: List<ItemListUi>,
    val errorCount: Int,
    val warnCount: Int,
)

/**
 * @property sections A–J in order; J is the sign-off block (see [SignOffPresenter]).
 * @property selectedSection the section shown (`A`…`J`).
 * @property issues every issue of the record at the sign stage, ERRORs first.
 * @property canSign nothing blocks signing (no ERROR, every WARN acknowledged, no conflict).
 * @property readOnly signed: edits go in an addendum (`RK-SIGN-LOCK`).
 */
data class AssessmentFormState(
    val recordId: String,
    val banner: Banner? = null,
    val signState: SignState? = null,
    val sections: List<SectionUi> = emptyList(),
    val selectedSection: String = "A",
    val issues: List<IssueRow> = emptyList(),
    val canSign: Boolean = false,
    val readOnly: Boolean = false,
    val conflictCount: Int = 0,
    val loading: Boolean = true,
    val error: UiError? = null,
) {
    /** The section shown. */
    val current: SectionUi? get() = sections.firstOrNull { it.id == selectedSection }
}

/** Events: [selectSection] and the shared form events of [RecordFormPresenter]. */
class AssessmentFormPresenter(
    hv: HomeVisit,
    recordId: String,
    scope: CoroutineScope,
) : RecordFormPresenter<AssessmentFormState>(hv, recordId, AssessmentFormState(recordId), scope) {

    init {
        start()
    }

    override fun AssessmentFormState.withError(error: UiError?) = copy(error = error)

    override fun spec(path: String): FieldSpec? = AssessmentForm.field(path)

    /** Shows section [id] (`A`…`J`). */
    fun selectSection(id: String): Job = act {
        require(AssessmentForm.SECTIONS.any { it.id == id }) { "no section $id" }
        update { it.copy(selectedSection = id) }
    }

    override fun AssessmentFormState.from(snapshot: RecordSnapshot): AssessmentFormState {
        val content = snapshot.content
        val sections = AssessmentForm.SECTIONS.map { s ->
            val sectionIssues = snapshot.issues.under("sections.${s.id}")
            SectionUi(
                id = s.id,
                title = s.title,
                fields = s.fields.map { fieldRow(it, content, snapshot.issues, snapshot.conflictPaths) },
                lists = s.lists.map { l ->
                    ItemListUi(
                        path = l.path,
                        label = l.label,
                        itemFields = l.itemFields,
                        items = liveItems(content, l.path).map { item ->
                            ItemRowUi(
                                itemId = item["item_id"].toString(),
                                summary = l.itemFields.mapNotNull { f -> item[f.path]?.let { v -> displayValue(f.path, v) } }.joinToString(" · "),
                            )
                        },
                    )
                },
                errorCount = sectionIssues.count { it.isError },
                warnCount = sectionIssues.count { !it.isError && it.blocking },
            )
        }
        return copy(
            banner = snapshot.view.banner,
            signState = snapshot.view.signState,
            sections = sections,
            issues = snapshot.issues,
            canSign = snapshot.view.signState == SignState.DRAFT && snapshot.blockers.isEmpty() && snapshot.view.conflicts.isEmpty(),
            readOnly = snapshot.view.signState != SignState.DRAFT,
            conflictCount = snapshot.view.conflicts.size,
            loading = false,
        )
    }
}

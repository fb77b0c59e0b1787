// Sign, countersign and addenda (DOMAIN.md §4: RK-SIGN, RK-COUNTERSIGN, RK-SIGN-LOCK,
// RK-ADDENDUM, RK-AMEND) for home-visit assessments and risk assessments.
package app.homevisit.presenters

import app.homevisit.core.Amendment
import app.homevisit.core.Banner
import app.homevisit.core.Role
import app.homevisit.core.SignState
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.Json
import app.homevisit.kit.UiError
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** An addendum already on the record. */
data class AddendumRow(val addendumId: String, val text: String, val reason: String, val author: String?, val role: String?, val at: String?, val changedPaths: List<String>)

/** A field change of an addendum being written: path and new value (JSON, `330` = 33.0 kg). */
data class AmendmentDraft(val path: String, val newValueJson: String)

/**
 * @property signState draft, signed, awaiting countersignature, countersigned, entered in error.
 * @property blockers what stops signing: ERRORs and unacknowledged WARNs, with rule IDs.
 * @property canSign draft and nothing blocks.
 * @property canCountersign awaiting countersignature and the user is an OT or approver (the
 *   core also checks HCPC registration today).
 * @property canAddAddendum signed in any way: new information goes in an addendum.
 * @property addenda the record's addenda, oldest first.
 * @property signedBy / countersignedBy user ids from the signature blocks.
 */
data class SignOffState(
    val recordId: String,
    val banner: Banner? = null,
    val signState: SignState? = null,
    val role: Role = Role.AP,
    val blockers: List<IssueRow> = emptyList(),
    val canSign: Boolean = false,
    val canCountersign: Boolean = false,
    val canAddAddendum: Boolean = false,
    val addenda: List<AddendumRow> = emptyList(),
    val signedBy: String? = null,
    val countersignedBy: String? = null,
    val conflictCount: Int = 0,
    val loading: Boolean = true,
    val error: UiError? = null,
)

/** Events: [sign], [countersign], [addAddendum], [acknowledge], [load]. */
class SignOffPresenter(
    hv: HomeVisit,
    recordId: String,
    scope: CoroutineScope,
) : RecordFormPresenter<SignOffState>(hv, recordId, SignOffState(recordId, role = hv.identity.role), scope) {

    init {
        start()
    }

    override fun SignOffState.withError(error: UiError?) = copy(error = error)

    override fun spec(path: String): FieldSpec? = null

    /** Countersigns an AP-signed record (`RK-COUNTERSIGN`). */
    fun countersign(): Job = act {
        try {
            hv.countersign(recordId)
        } finally {
            reloadSerially()
        }
    }

    /** Adds an addendum with [text], field [changes] and [reason] (`RK-ADDENDUM`). */
    fun addAddendum(text: String, changes: List<AmendmentDraft>, reason: String): Job = act {
        hv.addAddendum(recordId, text, changes.map { Amendment(it.path, it.newValueJson) }, reason)
        reloadSerially()
    }

    override fun SignOffState.from(snapshot: RecordSnapshot): SignOffState {
        val c = snapshot.content
        val sign = snapshot.view.signState
        val addenda = liveItems(c, "addenda").map { a ->
            AddendumRow(
                addendumId = a["item_id"].toString(),
                text = a["text"]?.toString() ?: "",
                reason = a["reason"]?.toString() ?: "",
                author = (a["author"] ?: a["user_id"])?.toString(),
                role = a["role"]?.toString(),
                at = (a["at"] ?: a["added_at"])?.toString(),
                changedPaths = ((a["field_changes"] as? Map<*, *>)?.values ?: (a["field_changes"] as? List<*>) ?: emptyList<Any?>())
                    .mapNotNull { (it as? Map<*, *>)?.get("path")?.toString() },
            )
        }
        val signedBy = (Json.at(c, "signature.user_id") ?: Json.at(c, "signature.signer"))?.toString()
        val countersignedBy = (Json.at(c, "countersignature.user_id") ?: Json.at(c, "countersignature.signer"))?.toString()
        val blockers = snapshot.blockers
        return copy(
            banner = snapshot.view.banner,
            signState = sign,
            blockers = blockers,
            canSign = sign == SignState.DRAFT && blockers.isEmpty() && snapshot.view.conflicts.isEmpty(),
            canCountersign = sign == SignState.AWAITING_COUNTERSIGNATURE && role != Role.AP,
            canAddAddendum = sign == SignState.SIGNED || sign == SignState.AWAITING_COUNTERSIGNATURE || sign == SignState.COUNTERSIGNED,
            addenda = addenda,
            signedBy = signedBy,
            countersignedBy = countersignedBy,
            conflictCount = snapshot.view.conflicts.size,
            loading = false,
        )
    }
}

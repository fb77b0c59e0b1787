// What every record form shares: it follows the record (the core's record observer), writes
// typed values, toggles codes, adds and removes list items, acknowledges WARNs with a reason
// (FLD-ACK) and signs (RK-SIGN). The concrete forms only turn a RecordSnapshot into their state.
package app.homevisit.presenters

import app.homevisit.core.FieldValue
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.Json
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.drop
import kotlinx.coroutines.launch

abstract class RecordFormPresenter<S>(
    protected val hv: HomeVisit,
    protected val recordId: String,
    initial: S,
    scope: CoroutineScope,
) : Presenter<S>(initial, scope) {

    /**
     * Starts following the record (first read included: the record flow emits once on
     * registration); call at the end of the subclass's init.
     */
    protected fun start() {
        scope.launch { hv.recordChanges(recordId).collect { guarded { reloadSerially() } } }
    }

    /** Builds the screen's state from a fresh read of the record. */
    protected abstract fun S.from(snapshot: RecordSnapshot): S

    /** The spec of a field this form shows, to know how to convert typed input. */
    protected abstract fun spec(path: String): FieldSpec?

    /** Reads the record and rebuilds the state; forms that show more (workflow) add to it. */
    protected open suspend fun reload() {
        val snap = hv.snapshot(recordId)
        update { it.from(snap) }
    }

    /** [reload], one at a time (see [serially]). */
    protected suspend fun reloadSerially() = serially { reload() }

    /** Reads the record again. */
    fun load(): Job = act { reloadSerially() }

    /**
     * Sets a field from what was typed. Out-of-range values are kept and flagged (their issue
     * shows under the field); wrong-type input is refused with `FLD-FORMAT`; a signed record
     * refuses with `RK-SIGN-LOCK` (use an addendum).
     */
    fun setValue(path: String, input: String): Job = act {
        val spec = spec(path) ?: FieldSpec(path, path, FieldKind.TEXT)
        hv.write(recordId, spec, input)
        reloadSerially()
    }

    /** Sets a field to a value built by the screen (e.g. a picked item id). */
    fun setRaw(path: String, value: FieldValue): Job = act {
        hv.setField(recordId, path, value)
        reloadSerially()
    }

    /** Adds or removes one code of a code set (`CF-SET`). */
    fun toggleCode(path: String, code: String, on: Boolean): Job = act {
        if (on) hv.addCode(recordId, path, code) else hv.removeCode(recordId, path, code)
        reloadSerially()
    }

    /**
     * Adds an item to a list (`CF-LIST`) with [fields] as typed; numbers in whole units, kg
     * and cm as `32.4` (sent as tenths). Returns via [lastAddedItemId].
     */
    fun addItem(listPath: String, fields: Map<String, Any?>): Job = act {
        val id = hv.addItem(recordId, listPath, Json.write(fields))
        lastAddedItemId = id
        reloadSerially()
    }

    /** The id of the item the last [addItem] created. */
    @Volatile
    var lastAddedItemId: String? = null
        private set

    /** Marks a list item removed (it stays in history). */
    fun removeItem(itemPath: String): Job = act {
        hv.removeItem(recordId, itemPath)
        reloadSerially()
    }

    /** Acknowledges a WARN with a reason (`FLD-ACK`); it lapses if the value changes. */
    fun acknowledge(ruleId: String, path: String, reason: String): Job = act {
        hv.acknowledge(recordId, ruleId, path, reason)
        reloadSerially()
    }

    /**
     * Signs (`RK-SIGN`). Refused while an ERROR or unacknowledged WARN remains: the error then
     * lists them with rule IDs and the record stays a draft.
     */
    fun sign(): Job = act {
        try {
            hv.sign(recordId)
        } finally {
            reloadSerially()
        }
    }
}

// Conflict resolution (CF-CLINICAL, SAF-SILENT-CONFLICT): each clinical field with concurrent
// values lists every candidate with who wrote it, on which device and when; the user picks one
// and the core records the choice (action `resolve`). Until then the record cannot be signed,
// submitted or moved on (CF-BLOCK).
package app.homevisit.presenters

import app.homevisit.core.Banner
import app.homevisit.core.FieldConflict
import app.homevisit.core.Role
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.Json
import app.homevisit.kit.UiError
import app.homevisit.kit.displayValue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch

/**
 * One candidate value.
 *
 * @property valueJson the value as the core stores it (`324` for 32.4 kg).
 * @property display the value for a person (`32.4 kg`).
 * @property mine written by the signed-in user.
 */
data class CandidateUi(
    val valueJson: String,
    val display: String,
    val userId: String?,
    val role: Role?,
    val deviceId: String?,
    val at: String?,
    val mine: Boolean,
)

/** A field in conflict; [selectedIndex] is the candidate picked, `null` until one is. */
data class ConflictUi(val path: String, val candidates: List<CandidateUi>, val selectedIndex: Int?) {
    /** The picked candidate. */
    val selected: CandidateUi? get() = selectedIndex?.let { candidates.getOrNull(it) }
}

/**
 * @property conflicts the open conflicts of the record.
 * @property resolvedPaths fields resolved on this screen.
 */
data class ConflictResolutionState(
    val recordId: String,
    val banner: Banner? = null,
    val conflicts: List<ConflictUi> = emptyList(),
    val resolvedPaths: List<String> = emptyList(),
    val loading: Boolean = true,
    val error: UiError? = null,
) {
    /** Nothing left to resolve. */
    val allResolved: Boolean get() = !loading && conflicts.isEmpty()
}

fun FieldConflict.toUi(myUserId: String, previous: ConflictUi?) = ConflictUi(
    path = path,
    candidates = candidates.map {
        CandidateUi(
            valueJson = it.valueJson,
            display = displayValue(path, runCatching { Json.parse(it.valueJson) }.getOrDefault(it.valueJson)),
            userId = it.author.userId,
            role = it.author.role,
            deviceId = it.author.deviceId,
            at = it.author.at,
            mine = it.author.userId == myUserId,
        )
    },
    selectedIndex = previous?.selectedIndex,
)

/** Events: [choose], [resolve], [load]. Follows the record (a sync may add or settle some). */
class ConflictResolutionPresenter(
    private val hv: HomeVisit,
    private val recordId: String,
    scope: CoroutineScope,
) : Presenter<ConflictResolutionState>(ConflictResolutionState(recordId), scope) {

    init {
        // The record flow emits once on registration: that is the first read.
        this.scope.launch { hv.recordChanges(recordId).collect { guarded { reload() } } }
    }

    override fun ConflictResolutionState.withError(error: UiError?) = copy(error = error)

    /** Reads the record's conflicts again. */
    fun load(): Job = act { reload() }

    /** Picks candidate [index] of the conflict at [path]. */
    fun choose(path: String, index: Int): Job = act {
        update { s ->
            s.copy(
                conflicts = s.conflicts.map {
                    if (it.path == path) {
                        require(index in it.candidates.indices) { "no candidate $index at $path" }
                        it.copy(selectedIndex = index)
                    } else {
                        it
                    }
                },
            )
        }
    }

    /** Writes the picked value of [path] as the resolution. */
    fun resolve(path: String): Job = act {
        val c = state.value.conflicts.firstOrNull { it.path == path } ?: throw IllegalStateException("no conflict at $path")
        val chosen = c.selected ?: throw InputFormatException("CF-CLINICAL", "pick one of the values first")
        hv.resolve(recordId, path, chosen.valueJson)
        update { it.copy(resolvedPaths = it.resolvedPaths + path) }
        reload()
    }

    private suspend fun reload() = serially {
        val view = hv.view(recordId)
        val me = hv.identity.userId
        update { s ->
            s.copy(
                banner = view.banner,
                conflicts = view.conflicts.map { c -> c.toUi(me, s.conflicts.firstOrNull { it.path == c.path }) },
                loading = false,
            )
        }
    }
}

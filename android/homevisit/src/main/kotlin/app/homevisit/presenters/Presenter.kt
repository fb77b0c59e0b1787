// Screen logic without androidx: each presenter holds one immutable state in a StateFlow,
// takes events as plain functions and talks to the core through the HomeVisit facade. Compose
// (android/app) renders `state`; the iOS app mirrors the same names in Swift.
package app.homevisit.presenters

import app.homevisit.core.Severity
import app.homevisit.core.ValidationIssue
import app.homevisit.kit.ErrorKind
import app.homevisit.kit.UiError
import app.homevisit.kit.toUiError
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/**
 * The base of every presenter.
 *
 * Events are plain functions that start work in the presenter's scope and return its [Job]
 * (the UI ignores it; tests `join()` it). A failure never escapes: it becomes the state's
 * `error` ([UiError] with its rule ID), and the next event clears it.
 */
abstract class Presenter<S>(initial: S, parent: CoroutineScope) : AutoCloseable {
    private val job = SupervisorJob(parent.coroutineContext[Job])

    /** Work of this presenter; cancelled by [close]. */
    protected val scope: CoroutineScope = CoroutineScope(parent.coroutineContext + job)

    private val mutable = MutableStateFlow(initial)

    /** The screen's state; the only thing a renderer reads. */
    val state: StateFlow<S> = mutable.asStateFlow()

    /** Replaces the state with a function of the current one (atomic). */
    protected fun update(f: (S) -> S) = mutable.update(f)

    /** The state with [error] set (or cleared with `null`). */
    protected abstract fun S.withError(error: UiError?): S

    /** Runs an event: clears the previous error, records a new one. */
    protected fun act(block: suspend CoroutineScope.() -> Unit): Job = scope.launch {
        update { it.withError(null) }
        try {
            block()
        } catch (e: CancellationException) {
            throw e
        } catch (e: InputFormatException) {
            reject(e.ruleId, e.text)
        } catch (e: Exception) {
            update { it.withError(e.toUiError()) }
        }
    }

    private val refreshing = Mutex()

    /**
     * Runs a read-then-apply refresh alone. An observer-driven refresh and an event's own
     * refresh never interleave, so a read taken before a write can never be applied after the
     * read that follows it (the screen would show the record without the user's change).
     */
    protected suspend fun serially(block: suspend () -> Unit) = refreshing.withLock { block() }

    /** Runs an observer-driven refresh: a failure becomes the state's error, not a crash. */
    protected suspend fun guarded(block: suspend () -> Unit) {
        try {
            block()
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            update { it.withError(e.toUiError()) }
        }
    }

    /** Shows an input problem found before calling the core (e.g. letters in a number). */
    protected fun reject(ruleId: String, text: String) {
        update { it.withError(UiError(ErrorKind.INVALID_INPUT, ruleId, "[$ruleId] $text")) }
    }

    /** Clears the error banner. */
    fun dismissError() = update { it.withError(null) }

    /** Stops the presenter's work and observers. */
    override fun close() = job.cancel()
}

/**
 * One validation issue as a screen lists it, under its field and in the sign/submit panel.
 *
 * @property ruleId the DOMAIN.md rule, always shown (`MH-SWL`, `FLD-HARD`…).
 * @property severity ERROR blocks; WARN needs an acknowledgement with a reason (`FLD-ACK`).
 * @property text the core's sentence, starting with `[RULE-ID]`.
 * @property value the offending value in canonical units, when there is one.
 * @property acknowledged a WARN with a current acknowledgement (it no longer blocks).
 */
data class IssueRow(
    val ruleId: String,
    val path: String,
    val severity: Severity,
    val text: String,
    val value: String?,
    val acknowledged: Boolean,
) {
    /** An ERROR. */
    val isError: Boolean get() = severity == Severity.ERROR

    /** Blocks sign/submit now: an ERROR or an unacknowledged WARN. */
    val blocking: Boolean get() = isError || !acknowledged

    /** A WARN the user can acknowledge now. */
    val canAcknowledge: Boolean get() = !isError && !acknowledged
}

/** Rows for [all] issues, each WARN marked acknowledged when it is not among [blocking]. */
fun issueRows(all: List<ValidationIssue>, blocking: List<ValidationIssue>): List<IssueRow> {
    val open = blocking.map { it.ruleId to it.path }.toSet()
    return all.map {
        IssueRow(
            ruleId = it.ruleId,
            path = it.path,
            severity = it.severity,
            text = it.detail,
            value = it.value,
            acknowledged = it.severity == Severity.WARN && (it.ruleId to it.path) !in open,
        )
    }.sortedWith(compareBy({ !it.isError }, { it.acknowledged }, { it.path }))
}

/** Issues of one field path (or anything below it). */
fun List<IssueRow>.under(path: String): List<IssueRow> =
    filter { it.path == path || it.path.startsWith("$path.") }

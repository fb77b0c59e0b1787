// Share a record's report as PDF (docs/REPORTS.md; RK-REPORT, RK-AUDIT, CF-BLOCK): the core
// makes the PDF and writes the print entry to the access log; the screen hands the bytes to the
// share sheet or print service through a ReportShareSheet.
package app.homevisit.presenters

import app.homevisit.core.ReportKind
import app.homevisit.core.ReportPurpose
import app.homevisit.core.TeamMember
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.UiError
import app.homevisit.kit.toUiError
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job

/** Where the report stands: idle → loading → ready (bytes and file name) or failed. */
sealed interface ReportPhase {
    /** Nothing asked yet. */
    data object Idle : ReportPhase

    /** The core is making the PDF. */
    data object Loading : ReportPhase

    /** The PDF is made (and its print logged); [fileName] carries no child's name. */
    class Ready(val pdf: ByteArray, val fileName: String, val pageCount: Int, val kind: ReportKind) : ReportPhase

    /** Refused or failed: `Conflict` (CF-BLOCK) while a conflict is open, `RK-REPORT` for a referral. */
    data class Failed(val error: UiError) : ReportPhase
}

/** The platform's share sheet or print service (Android: a share intent over a content URI). */
fun interface ReportShareSheet {
    fun share(pdf: ByteArray, fileName: String)
}

/**
 * @property purpose who the report is for; printed in its footer and logged.
 * @property phase idle, loading, ready or failed.
 * @property shared whether the ready PDF was handed to the share sheet.
 */
data class ShareReportState(
    val recordId: String,
    val purpose: ReportPurpose = ReportPurpose.FAMILY,
    val phase: ReportPhase = ReportPhase.Idle,
    val shared: Boolean = false,
    val error: UiError? = null,
)

/** Events: [prepare], [share], [reset]. [team] names the users the report mentions. */
class ShareReportPresenter(
    private val hv: HomeVisit,
    recordId: String,
    private val team: List<TeamMember>,
    private val sheet: ReportShareSheet,
    scope: CoroutineScope,
) : Presenter<ShareReportState>(ShareReportState(recordId), scope) {

    override fun ShareReportState.withError(error: UiError?) = copy(error = error)

    /** Makes the report for [purpose]; the state goes loading → ready or failed. */
    fun prepare(purpose: ReportPurpose): Job = act {
        update { it.copy(purpose = purpose, phase = ReportPhase.Loading, shared = false) }
        try {
            val r = hv.reportPdf(state.value.recordId, purpose, team)
            update { it.copy(phase = ReportPhase.Ready(r.pdf, r.fileName, r.pageCount.toInt(), r.kind)) }
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            val error = e.toUiError()
            update { it.copy(phase = ReportPhase.Failed(error), error = error) }
        }
    }

    /** Hands the ready PDF to the share sheet; does nothing before it is ready. */
    fun share(): Job = act {
        val phase = state.value.phase
        if (phase is ReportPhase.Ready) {
            sheet.share(phase.pdf, phase.fileName)
            update { it.copy(shared = true) }
        }
    }

    /** Forgets the PDF (the bytes leave memory once the share sheet has them). */
    fun reset(): Job = act {
        update { it.copy(phase = ReportPhase.Idle, shared = false) }
    }
}

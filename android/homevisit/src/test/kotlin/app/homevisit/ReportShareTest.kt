// The share-report presenter against the real core: the PDF comes back with a file name and
// reaches the share sheet; a referral has no report (RK-REPORT) and the state says so.
package app.homevisit

import app.homevisit.core.ReportKind
import app.homevisit.core.ReportPurpose
import app.homevisit.core.Role
import app.homevisit.core.Service
import app.homevisit.core.TeamMember
import app.homevisit.presenters.ReportPhase
import app.homevisit.presenters.ReportShareSheet
import app.homevisit.presenters.ShareReportPresenter
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test

class ReportShareTest {
    @Test
    fun visitReportIsMadeAndHandedToTheShareSheetAndAReferralIsRefusedWithRkReport() = presenterTest { scope ->
        val id = identity(Role.OT)
        val ot = createStore(newStorePath(), id)
        val child = ot.createChild("Zoë", "Ó Dálaigh", "2016-05-14")
        val visit = ot.createAssessment(child, Service.HEALTH)
        val shared = mutableListOf<Pair<ByteArray, String>>()
        val sheet = ReportShareSheet { pdf, name -> shared.add(pdf to name) }
        val team = listOf(TeamMember(id.userId, "Priya Raman"))
        val p = ShareReportPresenter(ot, visit, team, sheet, scope)
        assertEquals(ReportPhase.Idle, p.state.value.phase)

        p.share().join()
        assertTrue("nothing is shared before the PDF is ready", shared.isEmpty())

        p.prepare(ReportPurpose.GP).join()
        val ready = p.state.value.phase as ReportPhase.Ready
        assertEquals(ReportKind.VISIT_REPORT, ready.kind)
        assertEquals("%PDF-", String(ready.pdf.copyOfRange(0, 5), Charsets.US_ASCII))
        assertTrue(ready.fileName, ready.fileName.startsWith("visit-report-") && ready.fileName.endsWith(".pdf"))
        assertFalse("no child's name in the file name", ready.fileName.contains("Zo"))
        assertTrue(ready.pageCount >= 1)
        assertEquals(ReportPurpose.GP, p.state.value.purpose)

        p.share().join()
        assertEquals(1, shared.size)
        assertTrue(shared[0].first.contentEquals(ready.pdf))
        assertEquals(ready.fileName, shared[0].second)
        assertTrue(p.state.value.shared)

        val referral = ot.createReferral(child, Service.HEALTH)
        val r = ShareReportPresenter(ot, referral, team, sheet, scope)
        r.prepare(ReportPurpose.FAMILY).join()
        val failed = r.state.value.phase as ReportPhase.Failed
        assertEquals("RK-REPORT", failed.error.ruleId)
        assertEquals("RK-REPORT", r.state.value.error?.ruleId)

        p.reset().join()
        assertEquals(ReportPhase.Idle, p.state.value.phase)
        p.close()
        r.close()
        ot.close()
    }
}

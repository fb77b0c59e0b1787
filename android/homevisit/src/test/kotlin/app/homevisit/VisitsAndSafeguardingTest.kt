// Visits (CH-VISIT-MISSED, CH-VISIT-OUTCOME), safeguarding (CH-SG-STATUS) on the banner and in the
// caseload, carer training (MH-CARER-TRAINED) and the child's voice (HV-B-VOICE) against the real core.
package app.homevisit

import app.homevisit.core.ChildViewsMode
import app.homevisit.core.FieldValue
import app.homevisit.core.Role
import app.homevisit.core.SafeguardingStatus
import app.homevisit.core.SafeguardingUpdate
import app.homevisit.core.Service
import app.homevisit.core.TraineeRole
import app.homevisit.core.VisitOutcome
import app.homevisit.core.VisitPlace
import app.homevisit.presenters.CaseloadFilter
import app.homevisit.presenters.CaseloadPresenter
import app.homevisit.presenters.RiskAssessmentPresenter
import app.homevisit.presenters.VisitsPresenter
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class VisitsAndSafeguardingTest {
    @Test
    fun twoMissedVisitsWarnOnTheVisitsScreenAndInTheCaseload() = presenterTest { scope ->
        val ot = createStore(newStorePath(), identity(Role.OT))
        val child = ot.createChild("Amira", "Okafor", "2016-05-14")
        val p = VisitsPresenter(ot, child, scope)
        p.state.await("loaded") { !it.loading }
        // CH-VISIT-OUTCOME: not seen without the follow-up taken is refused.
        p.recordVisit(today.minusDays(40).toString(), VisitPlace.CHILD_HOME, VisitOutcome.NO_ACCESS, "Nobody home", null).join()
        assertEquals("CH-VISIT-OUTCOME", p.state.value.error?.ruleId)
        assertEquals(0, p.state.value.visits.size)
        p.recordVisit(today.minusDays(40).toString(), VisitPlace.CHILD_HOME, VisitOutcome.WAS_NOT_BROUGHT, "Not brought to clinic", "Rebooked; letter sent").join()
        assertNull(p.state.value.missedVisitWarning)
        p.recordVisit(today.minusDays(5).toString(), VisitPlace.CHILD_HOME, VisitOutcome.NO_ACCESS, "Nobody home", "Phoned; health visitor told").join()
        val s = p.state.await("CH-VISIT-MISSED") { it.missedVisitWarning != null }
        assertTrue(s.missedVisitWarning!!, s.missedVisitWarning!!.contains("safeguarding referral"))
        assertEquals(listOf("No access", "Was not brought / not available"), s.visits.map { it.outcomeLabel })
        assertTrue(s.visits.all { it.missed })

        val c = CaseloadPresenter(ot, scope)
        c.state.await("caseload") { !it.loading && it.rows.size == 1 }
        assertNotNull(c.state.value.rows.single().missedVisitWarning)
        c.selectFilter(CaseloadFilter.SAFEGUARDING).join()
        assertEquals(listOf(child), c.state.value.rows.map { it.childId })
        c.close()
        p.close()
        ot.close()
    }

    @Test
    fun safeguardingStatusShowsOnTheBannerOfTheChildsRecordsAndIsAttributed() = presenterTest { scope ->
        val ot = createStore(newStorePath(), identity(Role.OT))
        val child = ot.createChild("Amira", "Okafor", "2016-05-14")
        val ra = ot.createRiskAssessment(child)
        val p = VisitsPresenter(ot, child, scope)
        p.state.await("loaded") { !it.loading }
        assertEquals(SafeguardingStatus.UNKNOWN, p.state.value.safeguardingStatus)
        // CH-SG-STATUS: a looked-after child needs the local authority.
        p.setSafeguarding(SafeguardingUpdate(SafeguardingStatus.LOOKED_AFTER, null, "Dana Reid", null, "01582 000000", null)).join()
        assertEquals("CH-SG-STATUS", p.state.value.error?.ruleId)
        p.setSafeguarding(SafeguardingUpdate(SafeguardingStatus.LOOKED_AFTER, "Luton Borough Council", "Dana Reid", null, "01582 000000", null)).join()
        val s = p.state.await("looked after") { it.safeguardingStatus == SafeguardingStatus.LOOKED_AFTER }
        assertEquals("Looked-after child", s.safeguardingLabel)
        assertEquals("Dana Reid (01582 000000)", s.socialWorker)
        assertTrue(s.safeguardingChanges > 0)
        assertEquals(SafeguardingStatus.LOOKED_AFTER, ot.view(ra).banner.safeguardingStatus)
        assertTrue(ot.safeguardingHistory(child).all { it.author.userId != null })
        p.close()
        ot.close()
    }

    @Test
    fun aHoistTaskWithoutATrainedCarerWarnsUntilTrainingIsRecorded() = presenterTest { scope ->
        val ot = createStore(newStorePath(), identity(Role.OT))
        val child = ot.createChild("Mo", "Ali", "2014-07-09")
        val ra = ot.createRiskAssessment(child)
        fillRiskAssessment(ot, ra)
        val p = RiskAssessmentPresenter(ot, ra, scope)
        p.state.await("loaded") { !it.loading }
        val exam = today.minusMonths(1).toString()
        val due = today.plusMonths(5).toString()
        p.addEquipment("hoist_ceiling", "182.0", exam, due, integralSpreaderBar = true).join()
        val hoist = p.lastEquipmentId!!
        p.addEquipment("sling", "100.0", exam, due).join()
        val sling = p.lastEquipmentId!!
        p.addTask("bed", "bath").join()
        val task = p.lastAddedItemId!!
        p.setTaskMethod(task, "hoist_ceiling", 1).join()
        p.useEquipment(task, "hoist_id", hoist).join()
        p.useEquipment(task, "sling_id", sling).join()
        val warned = p.state.await("MH-CARER-TRAINED") { s -> s.trainingIssues.any { it.ruleId == "MH-CARER-TRAINED" } }
        assertTrue(warned.trainingIssues.single { it.ruleId == "MH-CARER-TRAINED" }.path.endsWith(task))
        p.addCarerTraining(task, "Jo Respite", TraineeRole.RESPITE_STAFF, hoist, sling, "A. Therapist", today.minusDays(2).toString(), true, today.plusMonths(6).toString()).join()
        val s = p.state.await("trained") { it.training.size == 1 }
        assertEquals("respite_staff", s.training.single().traineeRole)
        assertTrue(s.trainingIssues.toString(), s.trainingIssues.none { it.ruleId == "MH-CARER-TRAINED" })
        p.close()
        ot.close()
    }

    @Test
    fun aSocialCareFormNeedsTheChildsViewsAndNonVerbalObservedWithHowIsEnough() = presenterTest { _ ->
        val ot = createStore(newStorePath(), identity(Role.OT))
        val child = ot.createChild("Mo", "Ali", "2014-07-09")
        val form = ot.createAssessment(child, Service.SOCIAL_CARE)
        ot.setField(form, "sections.A.visit_date", FieldValue.Text(today.toString()))
        suspend fun voice() = ot.blockingIssues(form).filter { it.ruleId == "HV-B-VOICE" }
        assertEquals(1, voice().size)
        ot.setChildViews(form, ChildViewsMode.NON_VERBAL_OBSERVED, null)
        assertEquals(1, voice().size)
        ot.setChildViews(form, ChildViewsMode.NON_VERBAL_OBSERVED, "Reached for the bath chair and smiled")
        assertEquals(0, voice().size)
        ot.close()
    }
}

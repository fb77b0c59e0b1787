// Home-visit form (sections A–J) and M&H risk assessment presenters: ERROR/WARN under the field
// with the rule ID, acknowledgement of a WARN, SWL and LOLER checks blocking signature.
package app.homevisit

import app.homevisit.core.Role
import app.homevisit.core.RiskBand
import app.homevisit.core.Service
import app.homevisit.core.TraineeRole
import app.homevisit.core.Severity
import app.homevisit.core.SignState
import app.homevisit.kit.ErrorKind
import app.homevisit.presenters.AssessmentFormPresenter
import app.homevisit.presenters.RiskAssessmentPresenter
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class FormsTest {
    @Test
    fun homeVisitFormShowsErrorAndWarnWithRuleIdsAndTakesAnAcknowledgement() = presenterTest { scope ->
        val ot = createStore(newStorePath(), identity(Role.OT))
        val child = ot.createChild("Amira", "Okafor", "2016-05-14")
        val form = ot.createAssessment(child, Service.SOCIAL_CARE)
        val p = AssessmentFormPresenter(ot, form, scope)
        p.state.await("sections") { it.sections.size == 10 }
        assertEquals(listOf("A", "B", "C", "D", "E", "F", "G", "H", "I", "J"), p.state.value.sections.map { it.id })
        p.selectSection("D").join()
        assertEquals("D", p.state.value.current?.id)

        // Riser 500 mm: outside the hard range 10–400 → FLD-HARD ERROR, kept and flagged.
        val riser = "sections.D.entrance_steps.riser_max_mm"
        p.setValue("sections.D.entrance_steps.count", "2").join()
        p.setValue(riser, "500").join()
        var row = p.state.value.current!!.fields.single { it.path == riser }
        assertEquals("500", row.input)
        assertEquals("ERROR", row.badge)
        val hard = row.issues.single { it.ruleId == "FLD-HARD" }
        assertEquals(Severity.ERROR, hard.severity)
        assertTrue(hard.text, hard.text.startsWith("[FLD-HARD]"))
        assertTrue(p.state.value.current!!.errorCount >= 1)
        assertFalse(p.state.value.canSign)

        // 240 mm: inside hard, outside soft 75–220 → FLD-SOFT WARN, then acknowledged.
        p.setValue(riser, "240").join()
        row = p.state.value.current!!.fields.single { it.path == riser }
        val soft = row.issues.single { it.ruleId == "FLD-SOFT" }
        assertEquals(Severity.WARN, soft.severity)
        assertTrue(soft.canAcknowledge)
        assertEquals("WARN", row.badge)
        p.acknowledge("FLD-SOFT", riser, "Measured twice; old house").join()
        assertNull(p.state.value.error)
        row = p.state.value.current!!.fields.single { it.path == riser }
        assertTrue(row.issues.single { it.ruleId == "FLD-SOFT" }.acknowledged)
        assertFalse(row.issues.single { it.ruleId == "FLD-SOFT" }.blocking)
        assertEquals("", row.badge)

        // Letters in a number are refused before anything is saved (FLD-FORMAT).
        p.setValue(riser, "tall").join()
        assertEquals("FLD-FORMAT", p.state.value.error?.ruleId)
        assertEquals("240", p.state.value.current!!.fields.single { it.path == riser }.input)

        // A code set toggles one code at a time; HV-A-IDENTITY wants two checks.
        p.selectSection("A").join()
        p.toggleCode("sections.A.identity_checked", "name", true).join()
        p.toggleCode("sections.A.identity_checked", "dob", true).join()
        assertEquals(listOf("dob", "name"), p.state.value.current!!.fields.single { it.path == "sections.A.identity_checked" }.selected)
        assertTrue(p.state.value.issues.none { it.ruleId == "HV-A-IDENTITY" })

        // Free text (CF-TEXT) and list items (CF-LIST).
        p.setValue("sections.B.presenting_concerns", "Struggles with buttons and zips").join()
        p.addItem("sections.A.people_present", mapOf("name" to "Grace", "relationship" to "mother")).join()
        assertNull(p.state.value.error)
        val b = p.state.value.sections.single { it.id == "B" }
        assertEquals("Struggles with buttons and zips", b.fields.single { it.path == "sections.B.presenting_concerns" }.input)
        val people = p.state.value.sections.single { it.id == "A" }.lists.single { it.path == "sections.A.people_present" }
        assertEquals(listOf("Grace · mother"), people.items.map { it.summary })

        // Signing an incomplete form is refused with the blocking issues listed.
        p.sign().join()
        assertEquals(ErrorKind.VALIDATION, p.state.value.error?.kind)
        assertTrue(p.state.value.error!!.issues.isNotEmpty())
        assertEquals(SignState.DRAFT, p.state.value.signState)
        p.close()
        ot.close()
    }

    @Test
    fun weightAboveTheLowestSwlShowsMhSwlAndBlocksSigning() = presenterTest { scope ->
        val ot = createStore(newStorePath(), identity(Role.OT))
        val child = ot.createChild("Mo", "Ali", "2014-07-09")
        val ra = ot.createRiskAssessment(child)
        fillRiskAssessment(ot, ra)
        val p = RiskAssessmentPresenter(ot, ra, scope)
        p.state.await("loaded") { !it.loading }
        assertTrue(p.state.value.canSign)

        // DOMAIN.md §8 vector 22: weight 52.3 kg; hoist 150.0, bar 150.0, sling 50.0.
        val exam = today.minusMonths(1).toString()
        val due = today.plusMonths(5).toString()
        p.addEquipment("hoist_mobile", "150.0", exam, due, integralSpreaderBar = false).join()
        val hoist = p.lastEquipmentId!!
        p.addEquipment("spreader_bar", "150.0", exam, due).join()
        val bar = p.lastEquipmentId!!
        p.addEquipment("sling", "50.0", exam, due).join()
        val sling = p.lastEquipmentId!!
        p.addTask("bed", "wheelchair").join()
        val task = p.lastAddedItemId!!
        p.setTaskMethod(task, "hoist_mobile", 2).join()
        p.setRating(task, "initial", 3, 3).join()
        p.setRating(task, "residual", 2, 3).join()
        p.addControl(task, "equipment_provided", "Mobile hoist and sling").join()
        p.useEquipment(task, "hoist_id", hoist).join()
        p.useEquipment(task, "spreader_bar_id", bar).join()
        p.useEquipment(task, "sling_id", sling).join()
        // MH-CARER-TRAINED: a carer trained and found competent on the hoist task.
        p.addCarerTraining(task, "Sam Carer", TraineeRole.CARER, hoist, sling, "A. Therapist", today.minusDays(7).toString(), true, today.plusMonths(6).toString()).join()
        assertEquals(1, p.state.value.training.size)
        p.setWeight("52.3", today.minusDays(3).toString()).join()
        assertNull(p.state.value.error)

        val s = p.state.value
        val row = s.tasks.single { it.itemId == task }
        assertTrue(row.usesHoist)
        assertEquals("50.0", row.swl?.lowestSwlKg)
        assertEquals("sling", row.swl?.lowestKind)
        assertEquals("52.3", row.swl?.weightKg)
        assertEquals("MH-SWL", row.swl?.ruleId)
        val swl = s.swlIssues.single { it.ruleId == "MH-SWL" }
        assertEquals(Severity.ERROR, swl.severity)
        assertTrue(swl.text, swl.text.startsWith("[MH-SWL]"))
        // The matrix: 3×3 = 9 High initially, 2×3 = 6 Moderate residual (MH-SCORE).
        assertEquals(9L, row.initial.score)
        assertEquals(RiskBand.HIGH, row.initial.band)
        assertEquals(RiskBand.MODERATE, row.residual.band)
        assertEquals(RiskBand.MODERATE, s.overallBand)
        assertFalse(s.canSign)

        p.sign().join()
        val refused = p.state.value
        assertEquals(ErrorKind.VALIDATION, refused.error?.kind)
        assertTrue(refused.error!!.issues.toString(), refused.error!!.issues.any { it.ruleId == "MH-SWL" })
        assertEquals(SignState.DRAFT, refused.signState)

        // 45.0 kg against 50.0: within 10 % → MH-SWL-MARGIN WARN (vector 23); acknowledged, it signs.
        p.setWeight("45.0", today.minusDays(3).toString()).join()
        val margin = p.state.value.tasks.single { it.itemId == task }.swl!!
        assertEquals("MH-SWL-MARGIN", margin.ruleId)
        assertTrue(margin.blocking)
        val warn = p.state.value.swlIssues.single()
        p.acknowledge(warn.ruleId, warn.path, "Sling re-rated by the supplier").join()
        assertFalse(p.state.value.tasks.single { it.itemId == task }.swl!!.blocking)
        assertTrue(p.state.value.issues.filter { it.blocking }.toString(), p.state.value.canSign)
        p.sign().join()
        assertNull(p.state.value.error)
        assertEquals(SignState.SIGNED, p.state.value.signState)
        assertTrue(p.state.value.readOnly)
        p.close()
        ot.close()
    }

    @Test
    fun tileoAndLolerIssuesShowOnTheirRows() = presenterTest { scope ->
        val ot = createStore(newStorePath(), identity(Role.OT))
        val child = ot.createChild("Nia", "Evans", "2013-09-30")
        val ra = ot.createRiskAssessment(child)
        val p = RiskAssessmentPresenter(ot, ra, scope)
        p.state.await("loaded") { !it.loading }
        p.setValue("assessment_date", today.toString()).join()
        assertEquals(20, p.state.value.tileo.size)
        // A hazard present without notes → MH-TILEO on that row; with notes it clears.
        p.setTileo("L2", present = true).join()
        assertTrue(p.state.value.tileo.single { it.code == "L2" }.issues.any { it.ruleId == "MH-TILEO" })
        p.setTileo("L2", present = true, notes = "Kicks out when startled").join()
        assertTrue(p.state.value.tileo.single { it.code == "L2" }.issues.none { it.ruleId == "MH-TILEO" && it.path.endsWith("notes") })
        // A sling whose next examination was due yesterday, used by a task → MH-LOLER-DUE ERROR.
        p.addEquipment("sling", "80.0", today.minusMonths(7).toString(), today.minusDays(1).toString()).join()
        val sling = p.lastEquipmentId!!
        p.addTask("bed", "bath").join()
        p.setTaskMethod(p.lastAddedItemId!!, "hoist_ceiling").join()
        p.useEquipment(p.lastAddedItemId!!, "sling_id", sling).join()
        val e = p.state.value.equipment.single()
        assertEquals("80.0", e.swlKg)
        assertTrue(e.lolerIssues.toString(), e.lolerIssues.any { it.ruleId == "MH-LOLER-DUE" && it.isError })
        p.close()
        ot.close()
    }
}

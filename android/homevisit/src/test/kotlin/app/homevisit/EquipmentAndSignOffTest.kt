// Equipment request (AP measurements with range checks, workflow actions by role) and sign-off
// (AP sign, OT countersign, sign lock, addendum) against the real core. Two users share one
// device's store file in turn, as a shared team tablet would.
package app.homevisit

import app.homevisit.core.MeasurementKey
import app.homevisit.core.Role
import app.homevisit.core.WorkflowNeed
import app.homevisit.core.EquipmentStatus
import app.homevisit.core.EquipmentCategory
import app.homevisit.core.Service
import app.homevisit.core.Severity
import app.homevisit.core.SignState
import app.homevisit.kit.ErrorKind
import app.homevisit.presenters.AmendmentDraft
import app.homevisit.presenters.EquipmentRequestPresenter
import app.homevisit.presenters.RiskAssessmentPresenter
import app.homevisit.presenters.SignOffPresenter
import java.util.UUID
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class EquipmentAndSignOffTest {
    @Test
    fun apEntersMeasurementsSubmitsAndCannotApprove() = presenterTest { scope ->
        val path = newStorePath()
        val team = UUID.randomUUID().toString()
        val ap = createStore(path, identity(Role.AP, team))
        val child = ap.createChild("Sam", "Jones", "2012-01-20")
        val req = ap.createEquipmentRequest(child, Service.HEALTH, EquipmentCategory.BATHING_AIDS)
        val p = EquipmentRequestPresenter(ap, req, scope)
        p.state.await("loaded") { !it.loading && it.status != null }
        assertEquals(EquipmentStatus.DRAFT, p.state.value.status)
        assertEquals("bathing_aids", p.state.value.category)
        // EQ-MEAS-REQUIRED for bathing: weight and bath rim height, listed first.
        assertEquals(listOf(MeasurementKey.WEIGHT_KG, MeasurementKey.BATH_RIM_HEIGHT_MM), p.state.value.measurements.filter { it.required }.map { it.key })
        assertEquals("300–900 mm", p.state.value.measurements.single { it.key == MeasurementKey.BATH_RIM_HEIGHT_MM }.hardRange)
        // From draft an AP may submit or cancel; approving is not listed from draft.
        assertTrue(p.state.value.actions.any { it.to == EquipmentStatus.SUBMITTED && it.permitted })
        assertTrue(p.state.value.actions.none { it.to == EquipmentStatus.APPROVED })

        // SAF-UNIT: 35 typed into a mm field is kept and flagged FLD-HARD.
        p.setMeasurement(MeasurementKey.BATH_RIM_HEIGHT_MM, "35").join()
        var rim = p.state.value.measurements.single { it.key == MeasurementKey.BATH_RIM_HEIGHT_MM }
        assertEquals("35", rim.input)
        assertEquals(today.toString(), rim.measuredOn)
        assertTrue(rim.issues.toString(), rim.issues.any { it.ruleId == "FLD-HARD" && it.severity == Severity.ERROR })
        assertFalse(p.state.value.canSubmit)
        p.setMeasurement(MeasurementKey.BATH_RIM_HEIGHT_MM, "550").join()
        rim = p.state.value.measurements.single { it.key == MeasurementKey.BATH_RIM_HEIGHT_MM }
        assertTrue(rim.issues.toString(), rim.issues.isEmpty())
        // kg typed with one decimal, stored in tenths.
        p.setMeasurement(MeasurementKey.WEIGHT_KG, "32.4").join()
        assertEquals("32.4 kg", p.state.value.measurements.single { it.key == MeasurementKey.WEIGHT_KG }.display)
        p.addRequestItem("Bath seat", 1).join()
        p.setJustification("Cannot sit unsupported in the bath").join()
        p.setValue("priority", "routine").join()
        assertEquals(listOf("Bath seat × 1"), p.state.value.items.map { it.summary })
        assertTrue(p.state.value.issues.filter { it.blocking }.toString(), p.state.value.canSubmit)

        p.perform(EquipmentStatus.SUBMITTED).join()
        assertNull(p.state.value.error)
        assertEquals(EquipmentStatus.SUBMITTED, p.state.value.status)
        // DOMAIN.md §8 vector 29: an AP may not approve; the action shows why, the core refuses.
        val approve = p.state.value.actions.single { it.to == EquipmentStatus.APPROVED }
        assertFalse(approve.permitted)
        assertEquals("EQ-ROLE", approve.refusalRuleId)
        p.perform(EquipmentStatus.APPROVED).join()
        assertEquals(ErrorKind.NOT_PERMITTED, p.state.value.error?.kind)
        assertEquals("EQ-ROLE", p.state.value.error?.ruleId)
        assertEquals(EquipmentStatus.SUBMITTED, p.state.value.status)
        p.close()
        ap.closeStore()

        // Another OT, HCPC-registered, on the same tablet may approve (W5, vector 28).
        val ot = openStore(path, identity(Role.OT, team))
        val q = EquipmentRequestPresenter(ot, req, scope)
        q.state.await("loaded as OT") { !it.loading && it.status == EquipmentStatus.SUBMITTED }
        val approveAsOt = q.state.value.actions.single { it.to == EquipmentStatus.APPROVED }
        assertTrue(approveAsOt.permitted)
        val decline = q.state.value.actions.single { it.to == EquipmentStatus.DECLINED }
        assertEquals(listOf(WorkflowNeed.REASON), decline.needs)
        q.perform(EquipmentStatus.APPROVED).join()
        assertNull(q.state.value.error)
        assertEquals(EquipmentStatus.APPROVED, q.state.value.status)
        q.close()
        ot.close()
    }

    @Test
    fun apSignsOtCountersignsThenChangesGoInAnAddendum() = presenterTest { scope ->
        val path = newStorePath()
        val team = UUID.randomUUID().toString()
        val ap = createStore(path, identity(Role.AP, team))
        val child = ap.createChild("Lee", "Brown", "2015-02-01")
        val ra = ap.createRiskAssessment(child)
        fillRiskAssessment(ap, ra)
        val p = SignOffPresenter(ap, ra, scope)
        p.state.await("signable") { it.canSign }
        assertFalse(p.state.value.canCountersign)
        p.sign().join()
        assertNull(p.state.value.error)
        assertEquals(SignState.AWAITING_COUNTERSIGNATURE, p.state.value.signState)
        // An AP cannot countersign (RK-COUNTERSIGN): the screen offers nothing and the core refuses.
        assertFalse(p.state.value.canCountersign)
        p.countersign().join()
        assertEquals(ErrorKind.NOT_PERMITTED, p.state.value.error?.kind)
        p.close()
        ap.closeStore()

        val ot = openStore(path, identity(Role.OT, team))
        val q = SignOffPresenter(ot, ra, scope)
        q.state.await("awaiting countersignature") { it.canCountersign }
        q.countersign().join()
        assertNull(q.state.value.error)
        assertEquals(SignState.COUNTERSIGNED, q.state.value.signState)
        assertTrue(q.state.value.canAddAddendum)

        // RK-SIGN-LOCK: a direct edit of the signed record is refused with an offer of an addendum.
        val form = RiskAssessmentPresenter(ot, ra, scope)
        form.state.await("read-only") { it.readOnly }
        form.setValue("carers_available", "3").join()
        assertEquals(ErrorKind.SIGNED_RECORD, form.state.value.error?.kind)
        assertEquals("RK-SIGN-LOCK", form.state.value.error?.ruleId)

        q.addAddendum("Second carer now available", listOf(AmendmentDraft("carers_available", "3")), "New information").join()
        assertNull(q.state.value.error)
        val s = q.state.await("one addendum") { it.addenda.size == 1 }
        assertEquals("Second carer now available", s.addenda.single().text)
        // RK-AMEND: the effective value is the addendum's.
        form.load().join()
        assertEquals("3", form.state.value.fields.single { it.path == "carers_available" }.input)
        form.close()
        q.close()
        ot.close()
    }
}

// Caseload (search, filters) and child summary (banner, records, eligibility outcome with rule
// IDs and reasons) against the real core.
package app.homevisit

import app.homevisit.core.FieldValue
import app.homevisit.core.EquipmentCategory
import app.homevisit.core.Role
import app.homevisit.core.Service
import app.homevisit.core.Signpost
import app.homevisit.presenters.CaseloadFilter
import app.homevisit.presenters.CaseloadPresenter
import app.homevisit.presenters.ChildSummaryPresenter
import app.homevisit.presenters.EligibilityOutcome
import app.homevisit.presenters.RecordKind
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test

class CaseloadAndChildTest {
    @Test
    fun caseloadSearchesByNameAndNhsNumberAndFiltersFormsAwaitingSignature() = presenterTest { scope ->
        val ap = createStore(newStorePath(), identity(Role.AP))
        val amira = ap.createChild("Amira", "Okafor", "2016-05-14")
        ap.setField(amira, "nhs_number", FieldValue.Text("9434765919"))
        ap.createChild("Sam", "Jones", "2012-01-20")
        val lee = ap.createChild("Lee", "Brown", "2015-02-01")
        val p = CaseloadPresenter(ap, scope)
        val all = p.state.await("three children") { it.rows.size == 3 && !it.loading }
        assertEquals(listOf("Lee Brown", "Sam Jones", "Amira Okafor"), all.rows.map { it.name })
        assertEquals("943 476 5919", all.rows.first { it.childId == amira }.nhsNumber)

        p.search("943 476 5919").join()
        assertEquals(listOf(amira), p.state.value.rows.map { it.childId })
        p.search("jones").join()
        assertEquals(listOf("Sam Jones"), p.state.value.rows.map { it.name })
        p.search("").join()
        assertEquals(3, p.state.value.rows.size)

        // An AP's signature awaits countersignature (RK-COUNTERSIGN): Lee needs a signature.
        val ra = ap.createRiskAssessment(lee)
        fillRiskAssessment(ap, ra)
        ap.sign(ra)
        p.selectFilter(CaseloadFilter.NEEDS_SIGNATURE).join()
        val needs = p.state.await("Lee needs a countersignature") { it.rows.map { r -> r.childId } == listOf(lee) }
        assertEquals(1, needs.rows.single().awaitingSignatureCount)
        // Nothing has reached a server: every child is unsynced (SAF-LOST-EDIT); none in conflict.
        p.selectFilter(CaseloadFilter.UNSYNCED).join()
        assertEquals(3, p.state.value.rows.size)
        p.selectFilter(CaseloadFilter.CONFLICTS).join()
        assertEquals(0, p.state.value.rows.size)
        assertEquals(3, p.state.value.totalChildren)
        p.close()
        ap.close()
    }

    @Test
    fun caseloadFollowsTheStoreWhileOpen() = presenterTest { scope ->
        val ot = createStore(newStorePath(), identity(Role.OT))
        val p = CaseloadPresenter(ot, scope)
        p.state.await("empty caseload") { !it.loading && it.rows.isEmpty() }
        ot.createChild("Nia", "Evans", "2013-09-30")
        val s = p.state.await("the new child appears") { it.rows.size == 1 }
        assertEquals("Nia Evans", s.rows.single().name)
        p.close()
        ot.close()
    }

    @Test
    fun childSummaryShowsBannerRecordsAndEligibilityWithRuleIdsAndReasons() = presenterTest { scope ->
        val ot = createStore(newStorePath(), identity(Role.OT))
        val child = ot.createChild("Mo", "Ali", "2012-01-20")
        ot.setField(child, "nhs_number", FieldValue.Text("9434765919"))
        ot.setField(child, "gp_area", FieldValue.Text("luton"))
        ot.setField(child, "education_setting", FieldValue.Text("mainstream"))
        val p = ChildSummaryPresenter(ot, child, scope)
        p.state.await("banner") { it.banner != null }
        assertEquals("Mo Ali", p.state.value.banner?.name)
        assertEquals("943 476 5919", p.state.value.banner?.nhsNumber)

        // DOMAIN.md §8 vector 9: a parent referring to the health service → H-REF-SOURCE.
        p.createReferral(Service.HEALTH).join()
        val referral = p.state.value.lastCreatedId
        assertNotNull("the referral was created: ${p.state.value.error}", referral)
        referral!!
        ot.setField(referral, "received_on", FieldValue.Text(today.toString()))
        ot.setField(referral, "route", FieldValue.Text("self_or_family"))
        ot.setField(referral, "referrer.role", FieldValue.Text("parent_carer"))
        ot.setField(referral, "referrer.knows_child_well", FieldValue.Flag(true))
        ot.setField(referral, "functional_difficulty", FieldValue.Text("yes"))
        ot.addCode(referral, "reasons", "dressing")
        p.evaluateEligibility(referral).join()
        val s = p.state.await("not eligible") { it.eligibility.any { c -> c.outcome == EligibilityOutcome.NOT_ELIGIBLE } }
        assertEquals(null, s.error)
        val card = s.eligibility.single { it.referralId == referral }
        assertEquals(listOf("H-REF-SOURCE"), card.reasons.map { it.ruleId })
        assertTrue(card.reasons.single().text.isNotBlank())
        assertEquals(listOf(Signpost.ASK_PROFESSIONAL_TO_REFER), card.signposts)
        assertTrue(s.records.any { it.recordId == referral && it.kind == RecordKind.REFERRAL })

        // A teacher who knows the child well refers instead: eligible.
        ot.setField(referral, "route", FieldValue.Text("direct_professional"))
        ot.setField(referral, "referrer.role", FieldValue.Text("teacher"))
        p.evaluateEligibility(referral).join()
        val eligible = p.state.await("eligible") { it.eligibility.single().outcome == EligibilityOutcome.ELIGIBLE }
        assertEquals(emptyList<Any>(), eligible.eligibility.single().reasons)

        // A request for a wheelchair is refused with its rule ID (S-WHEELCHAIR).
        p.createEquipmentRequest(Service.HEALTH, EquipmentCategory.WHEELCHAIR).join()
        assertEquals("S-WHEELCHAIR", p.state.value.error?.ruleId)
        p.close()
        ot.close()
    }
}

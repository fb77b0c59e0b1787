// The generated Kotlin bindings against the host build of the core, on a plain JVM.
import app.homevisit.core.*
import java.nio.file.Files
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class StoreTest {
    private val team = UUID.randomUUID().toString()
    private val key = ByteArray(32) { (it * 7 + 3).toByte() }

    private fun identity(role: Role) = Identity(
        userId = UUID.randomUUID().toString(),
        role = role,
        deviceId = UUID.randomUUID().toString(),
        teamId = team,
        hcpcNumber = if (role == Role.AP) null else "OT123456",
        hcpcVerifiedUntil = if (role == Role.AP) null else "2099-12-31",
    )

    private fun newPath() = Files.createTempDirectory("hv").resolve("store.db").toString()

    @Test
    fun wrongKeyIsAWrongKeyExceptionAndTheFileIsUntouched() {
        val path = newPath()
        val s = Store.create(path, key, identity(Role.OT))
        s.createChild("Amira", "Okafor", "2016-05-14")
        s.closeStore()
        val before = Files.readAllBytes(java.nio.file.Paths.get(path))
        try {
            Store.open(path, ByteArray(32) { 1 }, identity(Role.OT))
            fail("a wrong key must not open the store")
        } catch (e: HomeVisitException.WrongKey) {
            // expected
        }
        assertArrayEquals(before, Files.readAllBytes(java.nio.file.Paths.get(path)))
        val again = Store.open(path, key, identity(Role.OT))
        assertEquals(1, again.caseload().size)
    }

    @Test
    fun openingAMissingOrEmptyFileIsAStoreFileErrorAndCreatesNothing() {
        val path = newPath()
        try {
            Store.open(path, key, identity(Role.OT))
            fail("a missing store must not be created by open")
        } catch (e: HomeVisitException.StoreFile) {
            assertEquals(StoreFileProblem.MISSING, e.problem)
        }
        assertFalse(Files.exists(java.nio.file.Paths.get(path)))
        Files.write(java.nio.file.Paths.get(path), ByteArray(0))
        try {
            Store.open(path, key, identity(Role.OT))
            fail("an empty file is not a store")
        } catch (e: HomeVisitException.StoreFile) {
            assertEquals(StoreFileProblem.EMPTY, e.problem)
        }
        Store.create(path, key, identity(Role.OT)).closeStore()
        try {
            Store.create(path, key, identity(Role.OT))
            fail("create must not replace a store")
        } catch (e: HomeVisitException.StoreFile) {
            assertEquals(StoreFileProblem.ALREADY_EXISTS, e.problem)
        }
    }

    @Test
    fun createsEveryRecordTypeAndReportsAnOutOfRangeMeasurementWithItsRuleId() {
        val ap = Store.create(newPath(), key, identity(Role.AP))
        val child = ap.createChild("Sam", "Jones", "2012-01-20")
        ap.setField(child, "nhs_number", FieldValue.Text("9434765919"))
        val assessment = ap.createAssessment(child, Service.SOCIAL_CARE)
        ap.setField(assessment, "sections.D.entrance_steps.count", FieldValue.Integer(3L))
        val ra = ap.createRiskAssessment(child)
        ap.setField(ra, "child_weight_kg", FieldValue.Decimal("32.4"))
        val req = ap.createEquipmentRequest(child, Service.HEALTH, EquipmentCategory.SPECIALIST_SEATING)
        ap.setField(req, "measurements.hip_width_mm.value", FieldValue.Integer(280L))
        // SAF-UNIT: 35 (cm typed into a mm field) is kept and flagged FLD-HARD.
        ap.setField(req, "measurements.lower_leg_length_mm.value", FieldValue.Integer(35L))
        val issues = ap.validate(req, false)
        val hard = issues.filter { it.ruleId == "FLD-HARD" && it.path.contains("lower_leg_length_mm") }
        assertEquals(issues.toString(), 1, hard.size)
        assertEquals(Severity.ERROR, hard[0].severity)
        assertTrue(hard[0].detail.startsWith("[FLD-HARD]"))
        assertEquals(3, ap.recordsOfChild(child).size)
        assertEquals("Sam Jones", ap.view(ra).banner.name)
        assertEquals("943 476 5919", ap.view(ra).banner.nhsNumber)
    }

    @Test
    fun apApprovingIsNotPermittedWithEqRole() {
        val path = newPath()
        val ap = Store.create(path, key, identity(Role.AP))
        val child = ap.createChild("Lee", "Brown", "2015-02-01")
        val req = ap.createEquipmentRequest(child, Service.HEALTH, EquipmentCategory.BATHING_AIDS)
        try {
            ap.transition(req, EquipmentStatus.APPROVED, TransitionDetails())
            fail("an AP must not approve")
        } catch (e: HomeVisitException.NotPermitted) {
            // draft → approved is not a listed pair: EQ-TRANSITION comes first (DOMAIN §3.6).
            assertEquals("EQ-TRANSITION", e.ruleId)
        }
        ap.addItem(req, "items", """{"description":"Bath seat","quantity":1}""")
        ap.setText(req, "clinical_justification", "Cannot sit unsupported in the bath")
        for ((k, v) in listOf("weight_kg" to 324L, "bath_rim_height_mm" to 550L)) {
            ap.setField(req, "measurements.$k.value", FieldValue.Integer(v))
            ap.setField(req, "measurements.$k.measured_on", FieldValue.Text(java.time.LocalDate.now().toString()))
        }
        assertEquals(EquipmentStatus.SUBMITTED, ap.transition(req, EquipmentStatus.SUBMITTED, TransitionDetails()))
        try {
            ap.transition(req, EquipmentStatus.APPROVED, TransitionDetails())
            fail("an AP must not approve")
        } catch (e: HomeVisitException.NotPermitted) {
            assertEquals("EQ-ROLE", e.ruleId)
        }
        try {
            ap.createEquipmentRequest(child, Service.HEALTH, EquipmentCategory.WHEELCHAIR)
            fail("wheelchairs are refused")
        } catch (e: HomeVisitException.NotPermitted) {
            assertEquals("S-WHEELCHAIR", e.ruleId)
        }
    }

    @Test
    fun signedRecordRefusesDirectEditsButTakesAnAddendum() {
        val ot = Store.create(newPath(), key, identity(Role.OT))
        val child = ot.createChild("Mo", "Ali", "2014-07-09")
        val ra = ot.createRiskAssessment(child)
        fillRiskAssessment(ot, ra)
        assertEquals(SignState.SIGNED, ot.sign(ra))
        try {
            ot.setField(ra, "carers_available", FieldValue.Integer(3L))
            fail("a signed record must refuse direct edits")
        } catch (e: HomeVisitException.SignedRecord) {
            assertEquals(ra, e.recordId)
        }
        ot.addAddendum(ra, "Second carer now available", listOf(Amendment("carers_available", "3")), "New information")
        assertTrue(ot.view(ra).contentJson.contains("\"carers_available\":3"))
    }

    @Test
    fun observerReceivesChangesAndStopsAfterCancel() {
        val s = Store.create(newPath(), key, identity(Role.OT))
        val seen = CopyOnWriteArrayList<Int>()
        val threads = CopyOnWriteArrayList<String>()
        var first = true
        val handle = s.observeCaseload(object : CaseloadObserver {
            override fun onCaseload(caseload: List<CaseloadItem>) {
                seen.add(caseload.size)
                // The first call is made during observeCaseload itself; later ones by the core.
                if (!first) threads.add(Thread.currentThread().name)
                first = false
            }
        })
        // Observers run on the store's observer thread; waitForObservers() lets the test see
        // each delivery (two creates in a burst would be delivered as one).
        s.createChild("A", "One", "2015-01-01")
        s.waitForObservers()
        s.createChild("B", "Two", "2015-01-02")
        s.waitForObservers()
        assertEquals(2, threads.size)
        assertTrue("not called on the caller's thread", threads.none { it == Thread.currentThread().name })
        handle.cancel()
        s.createChild("C", "Three", "2015-01-03")
        s.waitForObservers()
        // Initial call with 0 children, then 1 and 2; nothing after cancel.
        assertEquals(listOf(0, 1, 2), seen.toList())
    }

    @Test
    fun closedStoreAnswersDatabaseClosed() {
        val s = Store.create(newPath(), key, identity(Role.OT))
        s.closeStore()
        try {
            s.caseload()
            fail("closed")
        } catch (e: HomeVisitException.DatabaseClosed) {
            // expected
        }
    }

    private fun fillRiskAssessment(s: Store, ra: String) {
        fun set(p: String, v: FieldValue) = s.setField(ra, p, v)
        val today = java.time.LocalDate.now()
        set("assessment_date", FieldValue.Text(today.toString()))
        set("location", FieldValue.Text("home"))
        set("avoidance_considered.decision", FieldValue.Text("not_possible"))
        set("avoidance_considered.text", FieldValue.Text("Cannot weight-bear"))
        set("child_weight_kg", FieldValue.Decimal("32.4"))
        set("child_weight_measured_on", FieldValue.Text(today.minusDays(10).toString()))
        set("carers_available", FieldValue.Integer(2L))
        for (i in listOf("T1", "T2", "T3", "T4", "I1", "I2", "I3", "I4", "L1", "L2", "L3", "L4", "L5", "E1", "E2", "E3", "E4", "O1", "O2", "O3")) {
            set("tileo.$i.hazard_present", FieldValue.Text("no"))
        }
        val task = s.addItem(ra, "tasks", """{"from":"bed","to":"wheelchair"}""")
        set("tasks.$task.method", FieldValue.Text("two_carers"))
        set("tasks.$task.carers_required", FieldValue.Integer(2L))
        set("tasks.$task.initial.likelihood", FieldValue.Integer(2L))
        set("tasks.$task.initial.severity", FieldValue.Integer(2L))
        set("tasks.$task.residual.likelihood", FieldValue.Integer(1L))
        set("tasks.$task.residual.severity", FieldValue.Integer(2L))
        s.addItem(ra, "tasks.$task.controls", """{"kind":"technique_training","text":"Trained"}""")
        set("review_due_on", FieldValue.Text(today.plusMonths(6).toString()))
        set("task_stopped_pending_review", FieldValue.Flag(false))
        val blocking = s.validate(ra, true)
        assertTrue(blocking.toString(), blocking.none { it.severity == Severity.ERROR })
        for (w in blocking) s.acknowledge(ra, w.ruleId, w.path, "Checked with the family")
    }
}

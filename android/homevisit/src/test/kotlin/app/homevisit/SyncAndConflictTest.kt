// Sync status and conflict resolution against a real team server started by the test: going
// online triggers a sync and the status turns synced; two tablets editing the same clinical
// field offline make a real conflict, which the resolution screen clears.
package app.homevisit

import app.homevisit.core.FieldValue
import app.homevisit.core.Role
import app.homevisit.core.SignState
import app.homevisit.kit.ErrorKind
import app.homevisit.kit.PeriodicSync
import app.homevisit.kit.SettableConnectivity
import app.homevisit.kit.SyncOnReconnect
import app.homevisit.kit.SyncOutcome
import app.homevisit.kit.SyncReason
import app.homevisit.presenters.CaseloadFilter
import app.homevisit.presenters.CaseloadPresenter
import app.homevisit.presenters.ConflictResolutionPresenter
import app.homevisit.presenters.RiskAssessmentPresenter
import app.homevisit.presenters.SyncPhase
import app.homevisit.presenters.SyncStatusPresenter
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class SyncAndConflictTest {
    @Test
    fun goingOnlineTriggersSyncAndTheStatusTurnsSynced(): Unit = withServer { server ->
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        try {
            val team = server.team("Luton OT")
            val (id, config) = server.enrol(team, Role.OT, "Olu")
            val hv = createStore(newStorePath(), id, config)
            val child = hv.createChild("Nia", "Evans", "2013-09-30")
            hv.createRiskAssessment(child)
            val net = SettableConnectivity(initial = false)
            val p = SyncStatusPresenter(hv, net, scope)
            val offline = p.state.await("offline with 2 unsynced") { it.phase == SyncPhase.OFFLINE && it.unsynced.size == 2 }
            assertNull(offline.lastSyncedAt)
            // The periodic job does nothing while offline and asks to be retried.
            assertFalse(PeriodicSync(hv, net).runOnce())
            assertNull(hv.syncState.value.lastReason)

            SyncOnReconnect(hv, net).start(scope)
            net.set(true)
            val synced = p.state.await("synced after reconnect") { it.phase == SyncPhase.SYNCED }
            assertTrue(synced.online)
            assertEquals(0, synced.unsynced.size)
            assertNotNull(synced.lastSyncedAt)
            assertEquals(SyncReason.RECONNECT, synced.lastReason)
            assertEquals(2L, synced.lastDocsSent)
            assertNull(synced.error)
            assertTrue("progress was reported", hv.syncState.value.progress != null)

            // A local edit is pending again until the next sync ("Sync now").
            hv.setField(child, "gp_area", FieldValue.Text("luton"))
            p.state.await("pending after an edit") { it.phase == SyncPhase.PENDING && it.unsynced.size == 1 }
            p.syncNow().join()
            val again = p.state.await("synced again") { it.phase == SyncPhase.SYNCED }
            assertEquals(SyncReason.USER, again.lastReason)
            // The periodic job syncs when online.
            assertTrue(PeriodicSync(hv, net).runOnce())
            assertEquals(SyncReason.PERIODIC, hv.syncState.value.lastReason)
            p.close()
            hv.close()
        } finally {
            scope.cancel()
        }
    }

    @Test
    fun aFailedSyncShowsTheErrorAndDoesNotMarkAnythingSynced(): Unit = withServer { server ->
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        try {
            val team = server.team("Luton OT")
            val (id, config) = server.enrol(team, Role.OT, "Olu")
            val hv = createStore(newStorePath(), id, config.copy(token = "00".repeat(32)))
            hv.createChild("Nia", "Evans", "2013-09-30")
            val net = SettableConnectivity(initial = true)
            val p = SyncStatusPresenter(hv, net, scope)
            p.syncNow().join()
            val failed = p.state.await("failed") { it.phase == SyncPhase.FAILED }
            assertEquals(ErrorKind.UNAUTHORIZED, failed.error?.kind)
            assertEquals(1, failed.unsynced.size)
            assertNull(failed.lastSyncedAt)
            assertTrue(hv.syncNow(SyncReason.USER) is SyncOutcome.Failed)
            p.close()
            hv.close()
        } finally {
            scope.cancel()
        }
    }

    @Test
    fun aRealConflictIsShownWithItsAuthorsAndResolvingItClearsIt(): Unit = withServer { server ->
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        try {
            val team = server.team("Luton OT")
            val (idA, cfgA) = server.enrol(team, Role.OT, "Olu")
            val (idB, cfgB) = server.enrol(team, Role.OT, "Bea")
            val a = createStore(newStorePath(), idA, cfgA)
            val b = createStore(newStorePath(), idB, cfgB)
            val child = a.createChild("Amira", "Okafor", "2016-05-14")
            val ra = a.createRiskAssessment(child)
            fillRiskAssessment(a, ra)
            assertTrue(a.syncNow(SyncReason.USER) is SyncOutcome.Done)
            assertTrue(b.syncNow(SyncReason.USER) is SyncOutcome.Done)
            // Offline on both tablets, the weight (a clinical field, CF-CLINICAL) gets two values.
            a.setField(ra, "child_weight_kg", FieldValue.Decimal("31.0"))
            b.setField(ra, "child_weight_kg", FieldValue.Decimal("46.0"))
            assertTrue(a.syncNow(SyncReason.USER) is SyncOutcome.Done)
            val merged = b.syncNow(SyncReason.USER) as SyncOutcome.Done
            assertEquals(1UL, merged.summary.conflicts)

            // The caseload's conflict filter finds the child.
            val caseload = CaseloadPresenter(b, scope)
            caseload.selectFilter(CaseloadFilter.CONFLICTS).join()
            caseload.state.await("child in conflict") { it.rows.map { r -> r.childId } == listOf(child) }

            // CF-BLOCK: the form cannot be signed while the weight is in conflict.
            val form = RiskAssessmentPresenter(b, ra, scope)
            form.state.await("conflict on the form") { it.conflictCount == 1 }
            assertTrue(form.state.value.fields.single { it.path == "child_weight_kg" }.inConflict)
            assertFalse(form.state.value.canSign)
            form.sign().join()
            assertTrue(form.state.value.error?.kind in setOf(ErrorKind.CONFLICT, ErrorKind.VALIDATION))

            val p = ConflictResolutionPresenter(b, ra, scope)
            val s = p.state.await("one conflict") { it.conflicts.size == 1 }
            val c = s.conflicts.single()
            assertEquals("child_weight_kg", c.path)
            assertEquals(setOf("31.0 kg", "46.0 kg"), c.candidates.map { it.display }.toSet())
            assertEquals(setOf(idA.userId, idB.userId), c.candidates.map { it.userId }.toSet())
            assertEquals(setOf(Role.OT), c.candidates.map { it.role }.toSet())
            assertEquals(setOf(idA.deviceId, idB.deviceId), c.candidates.map { it.deviceId }.toSet())
            assertTrue(c.candidates.all { it.at != null })
            assertEquals(1, c.candidates.count { it.mine })

            // Resolving without a pick is refused; picking A's 31.0 kg resolves it.
            p.resolve("child_weight_kg").join()
            assertEquals("CF-CLINICAL", p.state.value.error?.ruleId)
            val index = c.candidates.indexOfFirst { it.userId == idA.userId }
            p.choose("child_weight_kg", index).join()
            assertEquals("31.0 kg", p.state.value.conflicts.single().selected?.display)
            p.resolve("child_weight_kg").join()
            assertNull(p.state.value.error)
            val done = p.state.await("resolved") { it.allResolved }
            assertEquals(listOf("child_weight_kg"), done.resolvedPaths)
            val resolved = form.state.await("form free of conflict") { it.conflictCount == 0 }
            assertEquals("31.0", resolved.fields.single { it.path == "child_weight_kg" }.input)

            // The resolution syncs back: A sees it resolved too and the form signs.
            assertTrue(b.syncNow(SyncReason.USER) is SyncOutcome.Done)
            assertTrue(a.syncNow(SyncReason.USER) is SyncOutcome.Done)
            assertTrue(a.conflicts(ra).isEmpty())
            val blocking = b.blockingIssues(ra)
            for (w in blocking) b.acknowledge(ra, w.ruleId, w.path, "Re-weighed at the visit")
            form.sign().join()
            assertNull(form.state.value.error)
            assertEquals(SignState.SIGNED, form.state.value.signState)
            listOf(caseload, form, p).forEach { it.close() }
            a.close()
            b.close()
        } finally {
            scope.cancel()
        }
    }
}

// The library layer: the facade over the real core (suspend calls, observer Flows that cancel
// their handles), the key provider, error conversion and the JSON reader.
package app.homevisit

import app.homevisit.core.FieldValue
import app.homevisit.core.EquipmentCategory
import app.homevisit.core.Role
import app.homevisit.core.Service
import app.homevisit.kit.ErrorKind
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.Json
import app.homevisit.kit.JsonException
import app.homevisit.kit.KeyProvider
import app.homevisit.kit.SyncOutcome
import app.homevisit.kit.SyncReason
import app.homevisit.kit.displayValue
import app.homevisit.kit.toUiError
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class KitTest {
    @Test
    fun wrongKeyFromTheKeyProviderIsAWrongKeyErrorAndTheRightKeyStillOpens(): Unit = runBlocking {
        val path = newStorePath()
        val id = identity(Role.OT)
        val hv = createStore(path, id)
        hv.createChild("Amira", "Okafor", "2016-05-14")
        hv.closeStore()
        try {
            HomeVisit.open(path, KeyProvider { ByteArray(32) { 1 } }, id)
            fail("a wrong key must not open the store")
        } catch (e: Exception) {
            val err = e.toUiError()
            assertEquals(ErrorKind.WRONG_KEY, err.kind)
        }
        val again = openStore(path, id)
        assertEquals(1, again.caseload().size)
        again.close()
    }

    @Test
    fun caseloadFlowEmitsOnEveryChangeAndCancellingTheCollectionStopsTheObserver(): Unit = runBlocking {
        val hv = createStore(newStorePath(), identity(Role.OT))
        val seen = MutableStateFlow(emptyList<Int>())
        val job = launch(Dispatchers.Default) { hv.caseloadUpdates().collect { c -> seen.update { it + c.size } } }
        // The first emission is the caseload at registration; each change adds one.
        seen.await("initial caseload") { it == listOf(0) }
        hv.createChild("A", "One", "2015-01-01")
        seen.await("one child") { it.lastOrNull() == 1 }
        hv.createChild("B", "Two", "2015-01-02")
        seen.await("two children") { it.lastOrNull() == 2 }
        // Cancelling the collection runs awaitClose, which cancels the core's ObserverHandle
        // before join returns: a later change reaches no one.
        job.cancelAndJoin()
        hv.createChild("C", "Three", "2015-01-03")
        assertEquals(listOf(0, 1, 2), seen.value)
        assertEquals(3, hv.caseload().size)
        hv.close()
    }

    @Test
    fun recordUpdatesFollowEditsOfOneRecord(): Unit = runBlocking {
        val hv = createStore(newStorePath(), identity(Role.AP))
        val child = hv.createChild("Sam", "Jones", "2012-01-20")
        val ra = hv.createRiskAssessment(child)
        val weights = MutableStateFlow(emptyList<Any?>())
        val job = launch(Dispatchers.Default) {
            hv.recordUpdates(ra).collect { v -> weights.update { it + listOf(Json.at(Json.parse(v.contentJson), "child_weight_kg")) } }
        }
        weights.await("the record as it stands") { it == listOf(null) }
        hv.setField(ra, "child_weight_kg", FieldValue.Decimal("32.4"))
        weights.await("the edit") { it.lastOrNull() == 324L }
        job.cancelAndJoin()
        hv.close()
    }

    @Test
    fun typedErrorsKeepTheirRuleIds(): Unit = runBlocking {
        val hv = createStore(newStorePath(), identity(Role.AP))
        val child = hv.createChild("Lee", "Brown", "2015-02-01")
        try {
            hv.createEquipmentRequest(child, Service.HEALTH, EquipmentCategory.WHEELCHAIR)
            fail("wheelchairs are refused")
        } catch (e: Exception) {
            val err = e.toUiError()
            assertEquals(ErrorKind.NOT_PERMITTED, err.kind)
            assertEquals("S-WHEELCHAIR", err.ruleId)
            assertTrue(err.text, err.text.startsWith("[S-WHEELCHAIR]"))
        }
        try {
            // Two decimals in a kg value (DOMAIN.md §1.1).
            hv.setField(hv.createRiskAssessment(child), "child_weight_kg", FieldValue.Decimal("32.45"))
            fail("wrong-type input is refused")
        } catch (e: Exception) {
            assertEquals("FLD-FORMAT", e.toUiError().ruleId)
        }
        // Asking for the workflow of a record that is not a request is a wrong id, not damage.
        try {
            hv.workflowActions(child)
            fail("a child has no workflow")
        } catch (e: Exception) {
            assertEquals(ErrorKind.INVALID_INPUT, e.toUiError().kind)
        }
        hv.close()
    }

    @Test
    fun syncWithoutAServerIsNotConfiguredAndChangesNothing(): Unit = runBlocking {
        val hv = createStore(newStorePath(), identity(Role.OT))
        assertEquals(SyncOutcome.NotConfigured, hv.syncNow(SyncReason.USER))
        assertNull(hv.syncState.value.lastSyncedAt)
        hv.close()
    }

    @Test
    fun jsonReaderReadsTheDocumentLayoutAndRejectsGarbage() {
        val v = Json.parseObject("""{"a":{"b":[1,-2.5,"x\"y\u00e9",true,null]},"w":324}""")
        assertEquals(listOf(1L, -2.5, "x\"yé", true, null), Json.at(v, "a.b"))
        assertEquals("32.4 kg", displayValue("child_weight_kg", Json.at(v, "w")))
        assertEquals("""{"k":"a\nb","n":[1,true]}""", Json.write(mapOf("k" to "a\nb", "n" to listOf(1L, true))))
        for (bad in listOf("{", "[1,]", "{\"a\" 1}", "tru", "1 2", "\"open")) {
            try {
                Json.parse(bad)
                fail("`$bad` is not JSON")
            } catch (e: JsonException) {
                // expected
            }
        }
    }
}

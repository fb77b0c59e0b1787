// Sync from Kotlin: a real team server (the project's binary) started by the test on loopback.
import app.homevisit.core.*
import java.io.BufferedReader
import java.io.InputStreamReader
import java.nio.file.Files
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class SyncTest {
    private val server = System.getProperty("homevisit.server", "target/debug/homevisit-server")

    private fun admin(dataDir: String, vararg args: String): String {
        val p = ProcessBuilder(listOf(server) + args.toList().let { it.take(2) + listOf("--data-dir", dataDir) + it.drop(2) })
            .redirectErrorStream(false).start()
        val out = p.inputStream.bufferedReader().readText().trim()
        assertTrue("admin ${args.toList()} timed out", p.waitFor(30, TimeUnit.SECONDS))
        assertEquals("admin ${args.toList()}: ${p.errorStream.bufferedReader().readText()}", 0, p.exitValue())
        assertEquals("one line on stdout", 1, out.lines().size)
        return out
    }

    @Test
    fun syncUploadsReportsProgressAndMarksRecordsSynced() {
        val dataDir = Files.createTempDirectory("hv-server").toString()
        val team = admin(dataDir, "team", "add", "Luton OT")
        val user = admin(dataDir, "user", "add", "--team", team, "--name", "Olu", "--role", "ot", "--hcpc", "OT123456", "--hcpc-verified-until", "2099-12-31")
        val token = admin(dataDir, "device", "add", "--user", user, "--name", "tablet-1")
        val proc = ProcessBuilder(server, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0").start()
        try {
            val reader = BufferedReader(InputStreamReader(proc.inputStream))
            val listening = reader.readLine() ?: ""
            assertTrue(listening, listening.startsWith("listening "))
            val addr = listening.removePrefix("listening ").trim()
            val identity = Identity(user, Role.OT, UUID.randomUUID().toString(), team, "OT123456", "2099-12-31")
            val store = Store.create(Files.createTempDirectory("hv").resolve("s.db").toString(), ByteArray(32) { 9 }, identity)
            val child = store.createChild("Nia", "Evans", "2013-09-30")
            assertEquals(SyncStatus.LOCAL_ONLY, store.syncStatus(child))
            val unsyncedSeen = CopyOnWriteArrayList<Int>()
            val statusHandle = store.observeSyncStatus(object : SyncStatusObserver {
                override fun onSyncStatus(unsynced: List<RecordItem>) {
                    unsyncedSeen.add(unsynced.size)
                }
            })
            val progress = CopyOnWriteArrayList<SyncProgress>()
            val client = SyncClient(store, "ws://$addr/sync", token)
            val summary = runBlocking {
                client.sync(object : SyncProgressObserver {
                    override fun onProgress(p: SyncProgress) {
                        progress.add(p)
                    }
                })
            }
            assertTrue(summary.toString(), summary.complete)
            assertTrue(summary.toString(), summary.docsSent >= 1UL)
            assertTrue("progress was reported", progress.isNotEmpty())
            assertEquals(SyncStatus.SYNCED, store.syncStatus(child))
            store.waitForObservers()
            // The sync-status observer saw the child unsynced, then nothing left to sync.
            assertEquals(1, unsyncedSeen.first())
            assertEquals(0, unsyncedSeen.last())
            statusHandle.cancel()
            // A bad token is Unauthorized, typed.
            try {
                runBlocking { SyncClient(store, "ws://$addr/sync", "00".repeat(32)).sync(object : SyncProgressObserver {
                    override fun onProgress(progress: SyncProgress) {}
                }) }
                fail("a bad token must be refused")
            } catch (e: HomeVisitException.Unauthorized) {
                // expected
            }
        } finally {
            proc.destroy()
            proc.waitFor(10, TimeUnit.SECONDS)
        }
    }
}

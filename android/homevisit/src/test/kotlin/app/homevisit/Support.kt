// Test support: identities, stores in temp directories, a real team server (the project's
// binary) started per test, and bounded waits on presenter state (no sleeps).
package app.homevisit

import app.homevisit.core.FieldValue
import app.homevisit.core.Identity
import app.homevisit.core.Role
import app.homevisit.core.Severity
import app.homevisit.kit.HomeVisit
import app.homevisit.kit.KeyProvider
import app.homevisit.kit.ServerConfig
import java.io.BufferedReader
import java.io.InputStreamReader
import java.nio.file.Files
import java.time.LocalDate
import java.time.ZoneId
import java.util.UUID
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail

/** The device's local date, as the core's rules use it (DOMAIN.md §1.1). */
val today: LocalDate get() = LocalDate.now(ZoneId.of("Europe/London"))

val TEST_KEY = KeyProvider { ByteArray(32) { (it * 7 + 3).toByte() } }

fun identity(role: Role, team: String = UUID.randomUUID().toString(), userId: String = UUID.randomUUID().toString()) = Identity(
    userId = userId,
    role = role,
    deviceId = UUID.randomUUID().toString(),
    teamId = team,
    hcpcNumber = if (role == Role.AP) null else "OT123456",
    hcpcVerifiedUntil = if (role == Role.AP) null else "2099-12-31",
)

fun newStorePath(): String = Files.createTempDirectory("hv-android").resolve("store.db").toString()

suspend fun openStore(path: String, id: Identity, server: ServerConfig? = null): HomeVisit =
    HomeVisit.open(path, TEST_KEY, id, server)

suspend fun createStore(path: String, id: Identity, server: ServerConfig? = null): HomeVisit =
    HomeVisit.create(path, TEST_KEY, id, server)

/** Runs a test body with a presenter scope that is cancelled at the end. */
fun presenterTest(body: suspend (scope: CoroutineScope) -> Unit): Unit = runBlocking {
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    try {
        body(scope)
    } finally {
        scope.cancel()
    }
}

/** Waits (bounded) until the state satisfies [p]; on timeout fails with the last state. */
suspend fun <S> StateFlow<S>.await(what: String, timeoutMs: Long = 30_000, p: (S) -> Boolean): S = try {
    withTimeout(timeoutMs) { first(p) }
} catch (e: TimeoutCancellationException) {
    fail("timed out waiting for $what; last state: $value")
    throw e
}

/** Fills a risk assessment so that it can be signed (a two-carer task, no hoist). */
suspend fun fillRiskAssessment(hv: HomeVisit, ra: String) {
    suspend fun put(p: String, v: FieldValue) = hv.setField(ra, p, v)
    put("assessment_date", FieldValue.Text(today.toString()))
    put("location", FieldValue.Text("home"))
    put("avoidance_considered.decision", FieldValue.Text("not_possible"))
    put("avoidance_considered.text", FieldValue.Text("Cannot weight-bear"))
    put("child_weight_kg", FieldValue.Decimal("32.4"))
    put("child_weight_measured_on", FieldValue.Text(today.minusDays(10).toString()))
    put("carers_available", FieldValue.Integer(2L))
    for (i in listOf("T1", "T2", "T3", "T4", "I1", "I2", "I3", "I4", "L1", "L2", "L3", "L4", "L5", "E1", "E2", "E3", "E4", "O1", "O2", "O3")) {
        put("tileo.$i.hazard_present", FieldValue.Text("no"))
    }
    val task = hv.addItem(ra, "tasks", """{"from":"bed","to":"wheelchair"}""")
    put("tasks.$task.method", FieldValue.Text("two_carers"))
    put("tasks.$task.carers_required", FieldValue.Integer(2L))
    put("tasks.$task.initial.likelihood", FieldValue.Integer(2L))
    put("tasks.$task.initial.severity", FieldValue.Integer(2L))
    put("tasks.$task.residual.likelihood", FieldValue.Integer(1L))
    put("tasks.$task.residual.severity", FieldValue.Integer(2L))
    hv.addItem(ra, "tasks.$task.controls", """{"kind":"technique_training","text":"Trained"}""")
    put("review_due_on", FieldValue.Text(today.plusMonths(6).toString()))
    put("task_stopped_pending_review", FieldValue.Flag(false))
    val blocking = hv.validate(ra, true)
    assertTrue(blocking.toString(), blocking.none { it.severity == Severity.ERROR })
    for (w in blocking) hv.acknowledge(ra, w.ruleId, w.path, "Checked with the family")
}

/**
 * The project's team server (`homevisit-server`), on loopback with a fresh database; teams,
 * users and device tokens are made with its admin commands, as an administrator would.
 */
class TeamServer : AutoCloseable {
    private val binary = System.getProperty("homevisit.server", "target/debug/homevisit-server")
    private val dataDir = Files.createTempDirectory("hv-server").toString()
    private var proc: Process? = null
    lateinit var url: String
        private set

    private fun admin(vararg args: String): String {
        val argv = listOf(binary) + args.take(2) + listOf("--data-dir", dataDir) + args.drop(2)
        val p = ProcessBuilder(argv).start()
        val out = p.inputStream.bufferedReader().readText().trim()
        assertTrue("admin ${args.toList()} timed out", p.waitFor(30, TimeUnit.SECONDS))
        assertEquals("admin ${args.toList()}: ${p.errorStream.bufferedReader().readText()}", 0, p.exitValue())
        assertEquals("one line on stdout", 1, out.lines().size)
        return out
    }

    fun team(name: String): String = admin("team", "add", name)

    /** A user of [team] with [role]; OTs get an HCPC number valid until 2099. */
    fun user(team: String, name: String, role: Role): String {
        val r = when (role) {
            Role.AP -> "ap"
            Role.OT -> "ot"
            Role.APPROVER -> "approver"
            Role.SYSTEM -> "system"
        }
        val extra = if (role == Role.AP) emptyArray() else arrayOf("--hcpc", "OT123456", "--hcpc-verified-until", "2099-12-31")
        return admin("user", "add", "--team", team, "--name", name, "--role", r, *extra)
    }

    fun deviceToken(user: String, name: String): String = admin("device", "add", "--user", user, "--name", name)

    /** Starts serving; the URL is read from the `listening <addr>` line it prints. */
    fun start(): TeamServer {
        val p = ProcessBuilder(binary, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0").start()
        proc = p
        val line = BufferedReader(InputStreamReader(p.inputStream)).readLine() ?: ""
        assertTrue("server did not start: $line", line.startsWith("listening "))
        url = "ws://${line.removePrefix("listening ").trim()}/sync"
        return this
    }

    /** A signed-in user on a new tablet: identity and server config with its own token. */
    fun enrol(team: String, role: Role, name: String): Pair<Identity, ServerConfig> {
        val user = user(team, name, role)
        val token = deviceToken(user, "$name's tablet")
        return identity(role, team, user) to ServerConfig(url, token)
    }

    override fun close() {
        proc?.let {
            it.destroy()
            it.waitFor(10, TimeUnit.SECONDS)
        }
    }
}

/** `runBlocking` for a test body that needs a server. */
fun <T> withServer(body: suspend (TeamServer) -> T): T = TeamServer().start().use { s -> runBlocking { body(s) } }

// The facade an Android app holds: it owns the core's Store and SyncClient, runs every blocking
// call on the IO dispatcher, turns the core's observers into Flows and keeps the sync state.
package app.homevisit.kit

import app.homevisit.core.Amendment
import app.homevisit.core.EquipmentStatus
import app.homevisit.core.EquipmentCategory
import app.homevisit.core.Banner
import app.homevisit.core.CarerTrainingInput
import app.homevisit.core.CarerTrainingItem
import app.homevisit.core.ChildViewsMode
import app.homevisit.core.EligibilityException
import app.homevisit.core.OfferTier
import app.homevisit.core.SafeguardingConcernInput
import app.homevisit.core.SafeguardingUpdate
import app.homevisit.core.VisitItem
import app.homevisit.core.VisitPlanInput
import app.homevisit.core.VisitResultInput
import app.homevisit.core.CaseloadItem
import app.homevisit.core.CaseloadObserver
import app.homevisit.core.Eligibility
import app.homevisit.core.FieldConflict
import app.homevisit.core.FieldValue
import app.homevisit.core.HistoryItem
import app.homevisit.core.MeasurementKey
import app.homevisit.core.Identity
import app.homevisit.core.RecordItem
import app.homevisit.core.RecordObserver
import app.homevisit.core.RecordView
import app.homevisit.core.ReportPdf
import app.homevisit.core.ReportPurpose
import app.homevisit.core.Service
import app.homevisit.core.SignState
import app.homevisit.core.Store
import app.homevisit.core.SyncClient
import app.homevisit.core.SyncProgress
import app.homevisit.core.SyncProgressObserver
import app.homevisit.core.SyncStatus
import app.homevisit.core.SyncStatusObserver
import app.homevisit.core.SyncSummary
import app.homevisit.core.TeamMember
import app.homevisit.core.TransitionDetails
import app.homevisit.core.ValidationIssue
import app.homevisit.core.WorkflowView
import java.time.Clock
import java.time.Instant
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext

/** The team server this device syncs with: `wss://…/sync` and the device token. */
data class ServerConfig(val url: String, val token: String)

/**
 * Where sync stands, for the sync-status screen and badges.
 *
 * @property running a sync is in progress.
 * @property progress the running sync's progress (documents and bytes), when it reported some.
 * @property lastSyncedAt when a sync last completed (every document brought up to date).
 * @property lastSummary what the last finished sync did.
 * @property lastError why the last sync failed, cleared by the next success.
 * @property lastReason what asked for the last sync.
 */
data class SyncState(
    val running: Boolean = false,
    val progress: SyncProgress? = null,
    val lastSyncedAt: Instant? = null,
    val lastSummary: SyncSummary? = null,
    val lastError: UiError? = null,
    val lastReason: SyncReason? = null,
)

/**
 * One signed-in user's HomeVisit on this device. Every function is `suspend` and runs the core
 * call on [io]; failures are the core's typed `HomeVisitException`s (see [toUiError]).
 * Observers are exposed as cold [Flow]s: collecting registers the core observer, cancelling the
 * collection cancels its `ObserverHandle`.
 */
class HomeVisit private constructor(
    /** The core store; prefer the suspend functions here, which keep the UI thread free. */
    val store: Store,
    /** Who is signed in (role, HCPC registration). */
    val identity: Identity,
    private val server: ServerConfig?,
    private val io: CoroutineDispatcher,
    private val clock: Clock,
) : SyncTrigger, AutoCloseable {

    companion object {
        /**
         * Opens the existing encrypted store at [path] with the key from [keys]. A missing or
         * empty file is `StoreFile` (never a new, empty store): create one with [create] at
         * set-up.
         */
        suspend fun open(
            path: String,
            keys: KeyProvider,
            identity: Identity,
            server: ServerConfig? = null,
            io: CoroutineDispatcher = Dispatchers.IO,
            clock: Clock = Clock.systemUTC(),
        ): HomeVisit = withContext(io) {
            HomeVisit(Store.open(path, keys.storeKey(), identity), identity, server, io, clock)
        }

        /** Creates a new encrypted store at [path] (first set-up); refused if one is there. */
        suspend fun create(
            path: String,
            keys: KeyProvider,
            identity: Identity,
            server: ServerConfig? = null,
            io: CoroutineDispatcher = Dispatchers.IO,
            clock: Clock = Clock.systemUTC(),
        ): HomeVisit = withContext(io) {
            HomeVisit(Store.create(path, keys.storeKey(), identity), identity, server, io, clock)
        }

        /** An existing UNENCRYPTED store for tests and the demo only, never clinical data. */
        suspend fun openUnencryptedForTests(
            path: String,
            identity: Identity,
            server: ServerConfig? = null,
            io: CoroutineDispatcher = Dispatchers.IO,
            clock: Clock = Clock.systemUTC(),
        ): HomeVisit = withContext(io) {
            HomeVisit(Store.openUnencryptedForTests(path, identity), identity, server, io, clock)
        }

        /** A new UNENCRYPTED store for tests and the demo only, never clinical data. */
        suspend fun createUnencryptedForTests(
            path: String,
            identity: Identity,
            server: ServerConfig? = null,
            io: CoroutineDispatcher = Dispatchers.IO,
            clock: Clock = Clock.systemUTC(),
        ): HomeVisit = withContext(io) {
            HomeVisit(Store.createUnencryptedForTests(path, identity), identity, server, io, clock)
        }
    }

    private suspend fun <T> io(block: Store.() -> T): T = withContext(io) { store.block() }

    // ---- create -------------------------------------------------------------------------------
    suspend fun createChild(givenName: String, familyName: String, dateOfBirth: String): String =
        io { createChild(givenName, familyName, dateOfBirth) }
    suspend fun createReferral(childId: String, service: Service): String = io { createReferral(childId, service) }
    suspend fun createAssessment(childId: String, service: Service): String = io { createAssessment(childId, service) }
    suspend fun createRiskAssessment(childId: String): String = io { createRiskAssessment(childId) }
    suspend fun createEquipmentRequest(childId: String, service: Service, category: EquipmentCategory): String =
        io { createEquipmentRequest(childId, service, category) }

    // ---- edit ---------------------------------------------------------------------------------
    suspend fun setField(recordId: String, path: String, value: FieldValue) = io { setField(recordId, path, value) }
    suspend fun setText(recordId: String, path: String, text: String) = io { setText(recordId, path, text) }
    suspend fun addCode(recordId: String, setPath: String, code: String) = io { addCode(recordId, setPath, code) }
    suspend fun removeCode(recordId: String, setPath: String, code: String) = io { removeCode(recordId, setPath, code) }
    suspend fun addItem(recordId: String, listPath: String, fieldsJson: String): String = io { addItem(recordId, listPath, fieldsJson) }
    suspend fun removeItem(recordId: String, itemPath: String) = io { removeItem(recordId, itemPath) }
    suspend fun recordWeight(childId: String, kg: String, measuredOn: String): String = io { recordWeight(childId, kg, measuredOn) }

    // ---- read ---------------------------------------------------------------------------------
    suspend fun view(recordId: String): RecordView = io { view(recordId) }
    suspend fun banner(childId: String): Banner = io { banner(childId) }
    suspend fun validate(recordId: String, finalStage: Boolean): List<ValidationIssue> = io { validate(recordId, finalStage) }
    suspend fun blockingIssues(recordId: String): List<ValidationIssue> = io { blockingIssues(recordId) }
    suspend fun history(recordId: String): List<HistoryItem> = io { history(recordId) }
    suspend fun conflicts(recordId: String): List<FieldConflict> = io { conflicts(recordId) }
    suspend fun caseload(): List<CaseloadItem> = io { caseload() }
    suspend fun search(text: String): List<CaseloadItem> = io { search(text) }
    suspend fun recordsOfChild(childId: String): List<RecordItem> = io { recordsOfChild(childId) }
    suspend fun unsyncedRecords(): List<RecordItem> = io { unsyncedRecords() }
    suspend fun recordsWithConflicts(): List<RecordItem> = io { recordsWithConflicts() }
    suspend fun recordsAwaitingSignature(): List<RecordItem> = io { recordsAwaitingSignature() }
    suspend fun syncStatus(recordId: String): SyncStatus = io { syncStatus(recordId) }
    suspend fun requiredMeasurements(recordId: String): List<MeasurementKey> = io { requiredMeasurements(recordId) }
    suspend fun workflowActions(recordId: String): WorkflowView = io { workflowActions(recordId) }

    // ---- sign-off, workflow, eligibility, conflicts ---------------------------------------------
    suspend fun acknowledge(recordId: String, ruleId: String, path: String, reason: String) =
        io { acknowledge(recordId, ruleId, path, reason) }
    suspend fun sign(recordId: String): SignState = io { sign(recordId) }
    suspend fun countersign(recordId: String): SignState = io { countersign(recordId) }
    suspend fun addAddendum(recordId: String, text: String, changes: List<Amendment>, reason: String): String =
        io { addAddendum(recordId, text, changes, reason) }
    suspend fun markEnteredInError(recordId: String, reason: String) = io { markEnteredInError(recordId, reason) }
    suspend fun transition(recordId: String, to: EquipmentStatus, details: TransitionDetails): EquipmentStatus =
        io { transition(recordId, to, details) }
    suspend fun evaluateEligibility(referralId: String, asOf: String?): Eligibility = io { evaluateEligibility(referralId, asOf) }
    suspend fun resolve(recordId: String, path: String, valueJson: String) = io { resolve(recordId, path, valueJson) }

    // ---- visits, safeguarding, carer training, exceptions (DOMAIN.md §3.7, §3.5, §2.2) ----------
    suspend fun planVisit(childId: String, visit: VisitPlanInput): String = io { planVisit(childId, visit) }
    suspend fun recordVisit(childId: String, visit: VisitPlanInput, outcome: VisitResultInput): String =
        io { recordVisit(childId, visit, outcome) }
    suspend fun recordVisitOutcome(childId: String, visitId: String, outcome: VisitResultInput) =
        io { recordVisitOutcome(childId, visitId, outcome) }
    suspend fun linkVisitAssessment(childId: String, visitId: String, assessmentId: String) =
        io { linkVisitAssessment(childId, visitId, assessmentId) }
    suspend fun visits(childId: String): List<VisitItem> = io { visits(childId) }
    suspend fun setSafeguarding(childId: String, update: SafeguardingUpdate) = io { setSafeguarding(childId, update) }
    suspend fun addSafeguardingConcern(childId: String, concern: SafeguardingConcernInput): String =
        io { addSafeguardingConcern(childId, concern) }
    suspend fun safeguardingHistory(childId: String): List<HistoryItem> = io { safeguardingHistory(childId) }
    suspend fun addCarerTraining(riskAssessmentId: String, training: CarerTrainingInput): String =
        io { addCarerTraining(riskAssessmentId, training) }
    suspend fun carerTraining(riskAssessmentId: String): List<CarerTrainingItem> = io { carerTraining(riskAssessmentId) }
    suspend fun setChildViews(assessmentId: String, mode: ChildViewsMode, text: String?) = io { setChildViews(assessmentId, mode, text) }
    suspend fun setOfferTier(referralId: String, tier: OfferTier) = io { setOfferTier(referralId, tier) }
    suspend fun overrideEligibility(referralId: String, reason: String) = io { overrideEligibility(referralId, reason) }
    suspend fun eligibilityException(referralId: String): EligibilityException? = io { eligibilityException(referralId) }
    // ---- reports (docs/REPORTS.md) ----------------------------------------------------------------
    /** The record's report as PDF for [purpose]; the core logs the print (`RK-AUDIT`). */
    suspend fun reportPdf(recordId: String, purpose: ReportPurpose, team: List<TeamMember>): ReportPdf =
        io { reportPdf(recordId, purpose, team) }

    // ---- observers as flows -------------------------------------------------------------------

    /** The caseload now and after every change (conflated: a slow collector sees the latest). */
    fun caseloadUpdates(): Flow<List<CaseloadItem>> = callbackFlow {
        val handle = store.observeCaseload(object : CaseloadObserver {
            override fun onCaseload(caseload: List<CaseloadItem>) {
                trySend(caseload)
            }
        })
        awaitClose { handle.cancel() }
    }.buffer(Channel.CONFLATED).flowOn(io)

    /** The records the server lacks changes of, now and after every change and sync. */
    fun unsyncedUpdates(): Flow<List<RecordItem>> = callbackFlow {
        val handle = store.observeSyncStatus(object : SyncStatusObserver {
            override fun onSyncStatus(unsynced: List<RecordItem>) {
                trySend(unsynced)
            }
        })
        awaitClose { handle.cancel() }
    }.buffer(Channel.CONFLATED).flowOn(io)

    /**
     * Emits the record id once when the observer is registered, then each time the record
     * changes (locally or by sync). Registering first and then emitting means no change between
     * a screen's first read and its registration is missed.
     */
    fun recordChanges(recordId: String): Flow<String> = callbackFlow {
        val handle = store.observeRecord(recordId, object : RecordObserver {
            override fun onRecordChanged(recordId: String) {
                trySend(recordId)
            }
        })
        trySend(recordId)
        awaitClose { handle.cancel() }
    }.buffer(Channel.CONFLATED).flowOn(io)

    /** The record's view now and after every change. */
    fun recordUpdates(recordId: String): Flow<RecordView> = recordChanges(recordId).map { view(it) }

    // ---- sync ---------------------------------------------------------------------------------

    private val syncMutex = Mutex()
    private var client: SyncClient? = null
    private val mutableSyncState = MutableStateFlow(SyncState())

    /** Where sync stands; updated while a sync runs. */
    val syncState: StateFlow<SyncState> = mutableSyncState.asStateFlow()

    /** Whether a server is configured, i.e. whether [syncNow] can do anything. */
    val canSync: Boolean get() = server != null

    /**
     * Runs one sync with the team server (a second request waits for the running one, then
     * syncs again). Never throws for a failed sync: the failure is in the outcome and in
     * [syncState]; only cancellation propagates.
     */
    override suspend fun syncNow(reason: SyncReason): SyncOutcome {
        val server = server ?: return SyncOutcome.NotConfigured
        return syncMutex.withLock {
            mutableSyncState.update { it.copy(running = true, progress = null, lastReason = reason) }
            try {
                val c = client ?: withContext(io) { SyncClient(store, server.url, server.token) }.also { client = it }
                val summary = c.sync(object : SyncProgressObserver {
                    override fun onProgress(progress: SyncProgress) {
                        mutableSyncState.update { it.copy(progress = progress) }
                    }
                })
                mutableSyncState.update {
                    it.copy(
                        running = false,
                        lastSummary = summary,
                        lastError = null,
                        lastSyncedAt = if (summary.complete) Instant.now(clock) else it.lastSyncedAt,
                    )
                }
                SyncOutcome.Done(summary)
            } catch (e: CancellationException) {
                mutableSyncState.update { it.copy(running = false) }
                throw e
            } catch (e: Exception) {
                val err = e.toUiError()
                mutableSyncState.update { it.copy(running = false, lastError = err) }
                SyncOutcome.Failed(err)
            }
        }
    }

    /** Closes the store (later calls fail with `DatabaseClosed`) and frees the handles. */
    suspend fun closeStore() = withContext(io) {
        client?.close()
        client = null
        store.closeStore()
        store.close()
    }

    /** Frees the native handles without the suspend hop (e.g. from `onCleared`). */
    override fun close() {
        client?.close()
        client = null
        runCatching { store.closeStore() }
        store.close()
    }
}

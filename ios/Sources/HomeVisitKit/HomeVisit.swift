// The facade an iOS app holds: it owns the core's Store and SyncClient, runs every blocking
// call on a serial background executor, turns the core's observers into AsyncStreams and keeps
// the sync state. Mirrors android/homevisit/src/main/kotlin/app/homevisit/kit/HomeVisit.kt.
import Foundation
import HomeVisitCore

/// The team server this device syncs with: `wss://…/sync` and the device token.
public struct ServerConfig: Sendable, Equatable {
    public let url: String
    public let token: String

    public init(url: String, token: String) {
        self.url = url
        self.token = token
    }
}

/// Where sync stands, for the sync-status screen and badges.
///
/// - `running`: a sync is in progress.
/// - `progress`: the running sync's progress (documents and bytes), when it reported some.
/// - `lastSyncedAt`: when a sync last completed (every document brought up to date).
/// - `lastSummary`: what the last finished sync did.
/// - `lastError`: why the last sync failed, cleared by the next success.
/// - `lastReason`: what asked for the last sync.
public struct SyncState: Equatable, Sendable {
    public var running: Bool = false
    public var progress: SyncProgress?
    public var lastSyncedAt: Date?
    public var lastSummary: SyncSummary?
    public var lastError: UiError?
    public var lastReason: SyncReason?

    public init() {}
}

/// One signed-in user's HomeVisit on this device. Every function is `async` and runs the core
/// call on the executor; failures are the core's typed `HomeVisitError`s (see `toUiError`).
/// Observers are `AsyncStream`s: iterating registers the core observer, ending the iteration
/// (or cancelling its task) cancels its `ObserverHandle`.
public final class HomeVisit: SyncTrigger, @unchecked Sendable {
    /// The core store; prefer the async functions here, which keep the main thread free.
    public let store: Store
    /// Who is signed in (role, HCPC registration).
    public let identity: Identity
    private let server: ServerConfig?
    private let executor: BlockingExecutor
    private let clock: @Sendable () -> Date
    private let syncGate = SerialGate()
    private let syncLock = NSLock()
    private var client: SyncClient?
    private var currentSyncState = SyncState()
    private var syncListeners: [UUID: AsyncStream<SyncState>.Continuation] = [:]

    private init(store: Store, identity: Identity, server: ServerConfig?, executor: BlockingExecutor,
                 clock: @escaping @Sendable () -> Date) {
        self.store = store
        self.identity = identity
        self.server = server
        self.executor = executor
        self.clock = clock
    }

    /// Opens the existing encrypted store at `path` with the key from `keys`. A missing or
    /// empty file is `StoreFile` (never a new, empty store): create one with `create` at set-up.
    public static func open(path: String, keys: KeyProvider, identity: Identity, server: ServerConfig? = nil,
                            clock: @escaping @Sendable () -> Date = { Date() }) async throws -> HomeVisit {
        let executor = BlockingExecutor()
        let store = try await executor.run { try Store.open(path: path, key: try keys.storeKey(), identity: identity) }
        return HomeVisit(store: store, identity: identity, server: server, executor: executor, clock: clock)
    }

    /// Creates a new encrypted store at `path` (first set-up); refused if one is there.
    public static func create(path: String, keys: KeyProvider, identity: Identity, server: ServerConfig? = nil,
                              clock: @escaping @Sendable () -> Date = { Date() }) async throws -> HomeVisit {
        let executor = BlockingExecutor()
        let store = try await executor.run { try Store.create(path: path, key: try keys.storeKey(), identity: identity) }
        return HomeVisit(store: store, identity: identity, server: server, executor: executor, clock: clock)
    }

    /// An existing UNENCRYPTED store for tests and the demo only, never clinical data.
    public static func openUnencryptedForTests(path: String, identity: Identity, server: ServerConfig? = nil,
                                               clock: @escaping @Sendable () -> Date = { Date() }) async throws -> HomeVisit {
        let executor = BlockingExecutor()
        let store = try await executor.run { try Store.openUnencryptedForTests(path: path, identity: identity) }
        return HomeVisit(store: store, identity: identity, server: server, executor: executor, clock: clock)
    }

    /// A new UNENCRYPTED store for tests and the demo only, never clinical data.
    public static func createUnencryptedForTests(path: String, identity: Identity, server: ServerConfig? = nil,
                                                 clock: @escaping @Sendable () -> Date = { Date() }) async throws -> HomeVisit {
        let executor = BlockingExecutor()
        let store = try await executor.run { try Store.createUnencryptedForTests(path: path, identity: identity) }
        return HomeVisit(store: store, identity: identity, server: server, executor: executor, clock: clock)
    }

    private func io<T>(_ body: @escaping (Store) throws -> T) async throws -> T {
        let store = self.store
        return try await executor.run { try body(store) }
    }

    // MARK: create

    public func createChild(givenName: String, familyName: String, dateOfBirth: String) async throws -> String {
        try await io { try $0.createChild(givenName: givenName, familyName: familyName, dateOfBirth: dateOfBirth) }
    }
    public func createReferral(childId: String, service: Service) async throws -> String {
        try await io { try $0.createReferral(childId: childId, service: service) }
    }
    public func createAssessment(childId: String, service: Service) async throws -> String {
        try await io { try $0.createAssessment(childId: childId, service: service) }
    }
    public func createRiskAssessment(childId: String) async throws -> String {
        try await io { try $0.createRiskAssessment(childId: childId) }
    }
    public func createEquipmentRequest(childId: String, service: Service, category: EquipmentCategory) async throws -> String {
        try await io { try $0.createEquipmentRequest(childId: childId, service: service, category: category) }
    }

    // MARK: edit

    public func setField(recordId: String, path: String, value: FieldValue) async throws {
        try await io { try $0.setField(recordId: recordId, path: path, value: value) }
    }
    public func setText(recordId: String, path: String, text: String) async throws {
        try await io { try $0.setText(recordId: recordId, path: path, text: text) }
    }
    public func addCode(recordId: String, setPath: String, code: String) async throws {
        try await io { try $0.addCode(recordId: recordId, setPath: setPath, code: code) }
    }
    public func removeCode(recordId: String, setPath: String, code: String) async throws {
        try await io { try $0.removeCode(recordId: recordId, setPath: setPath, code: code) }
    }
    public func addItem(recordId: String, listPath: String, fieldsJson: String) async throws -> String {
        try await io { try $0.addItem(recordId: recordId, listPath: listPath, fieldsJson: fieldsJson) }
    }
    public func removeItem(recordId: String, itemPath: String) async throws {
        try await io { try $0.removeItem(recordId: recordId, itemPath: itemPath) }
    }
    public func recordWeight(childId: String, kg: String, measuredOn: String) async throws -> String {
        try await io { try $0.recordWeight(childId: childId, kg: kg, measuredOn: measuredOn) }
    }

    // MARK: read

    public func view(recordId: String) async throws -> RecordView {
        try await io { try $0.view(recordId: recordId) }
    }
    public func banner(childId: String) async throws -> Banner {
        try await io { try $0.banner(childId: childId) }
    }
    public func validate(recordId: String, finalStage: Bool) async throws -> [ValidationIssue] {
        try await io { try $0.validate(recordId: recordId, finalStage: finalStage) }
    }
    public func blockingIssues(recordId: String) async throws -> [ValidationIssue] {
        try await io { try $0.blockingIssues(recordId: recordId) }
    }
    public func history(recordId: String) async throws -> [HistoryItem] {
        try await io { try $0.history(recordId: recordId) }
    }
    public func conflicts(recordId: String) async throws -> [FieldConflict] {
        try await io { try $0.conflicts(recordId: recordId) }
    }
    public func caseload() async throws -> [CaseloadItem] {
        try await io { try $0.caseload() }
    }
    public func search(text: String) async throws -> [CaseloadItem] {
        try await io { try $0.search(text: text) }
    }
    public func recordsOfChild(childId: String) async throws -> [RecordItem] {
        try await io { try $0.recordsOfChild(childId: childId) }
    }
    public func unsyncedRecords() async throws -> [RecordItem] {
        try await io { try $0.unsyncedRecords() }
    }
    public func recordsWithConflicts() async throws -> [RecordItem] {
        try await io { try $0.recordsWithConflicts() }
    }
    public func recordsAwaitingSignature() async throws -> [RecordItem] {
        try await io { try $0.recordsAwaitingSignature() }
    }
    public func syncStatus(recordId: String) async throws -> SyncStatus {
        try await io { try $0.syncStatus(recordId: recordId) }
    }
    public func requiredMeasurements(recordId: String) async throws -> [MeasurementKey] {
        try await io { try $0.requiredMeasurements(recordId: recordId) }
    }
    public func workflowActions(recordId: String) async throws -> WorkflowView {
        try await io { try $0.workflowActions(recordId: recordId) }
    }

    // MARK: sign-off, workflow, eligibility, conflicts

    public func acknowledge(recordId: String, ruleId: String, path: String, reason: String) async throws {
        try await io { try $0.acknowledge(recordId: recordId, ruleId: ruleId, path: path, reason: reason) }
    }
    public func sign(recordId: String) async throws -> SignState {
        try await io { try $0.sign(recordId: recordId) }
    }
    public func countersign(recordId: String) async throws -> SignState {
        try await io { try $0.countersign(recordId: recordId) }
    }
    public func addAddendum(recordId: String, text: String, changes: [Amendment], reason: String) async throws -> String {
        try await io { try $0.addAddendum(recordId: recordId, text: text, changes: changes, reason: reason) }
    }
    public func markEnteredInError(recordId: String, reason: String) async throws {
        try await io { try $0.markEnteredInError(recordId: recordId, reason: reason) }
    }

    // ---- reports (docs/REPORTS.md) ----
    /// The record's report as PDF for `purpose`; the core logs the print (`RK-AUDIT`).
    public func reportPdf(recordId: String, purpose: ReportPurpose, team: [TeamMember]) async throws -> ReportPdf {
        try await io { try $0.reportPdf(recordId: recordId, purpose: purpose, team: team) }
    }
    public func transition(recordId: String, to: EquipmentStatus, details: TransitionDetails) async throws -> EquipmentStatus {
        try await io { try $0.transition(recordId: recordId, to: to, details: details) }
    }
    public func evaluateEligibility(referralId: String, asOf: String?) async throws -> Eligibility {
        try await io { try $0.evaluateEligibility(referralId: referralId, asOf: asOf) }
    }
    public func resolve(recordId: String, path: String, valueJson: String) async throws {
        try await io { try $0.resolve(recordId: recordId, path: path, valueJson: valueJson) }
    }

    // MARK: visits, safeguarding, carer training, exceptions (DOMAIN.md §3.7, §3.5, §2.2)

    public func planVisit(childId: String, visit: VisitPlanInput) async throws -> String {
        try await io { try $0.planVisit(childId: childId, visit: visit) }
    }
    public func recordVisit(childId: String, visit: VisitPlanInput, outcome: VisitResultInput) async throws -> String {
        try await io { try $0.recordVisit(childId: childId, visit: visit, outcome: outcome) }
    }
    public func recordVisitOutcome(childId: String, visitId: String, outcome: VisitResultInput) async throws {
        try await io { try $0.recordVisitOutcome(childId: childId, visitId: visitId, outcome: outcome) }
    }
    public func linkVisitAssessment(childId: String, visitId: String, assessmentId: String) async throws {
        try await io { try $0.linkVisitAssessment(childId: childId, visitId: visitId, assessmentId: assessmentId) }
    }
    public func visits(childId: String) async throws -> [VisitItem] {
        try await io { try $0.visits(childId: childId) }
    }
    public func setSafeguarding(childId: String, update: SafeguardingUpdate) async throws {
        try await io { try $0.setSafeguarding(childId: childId, update: update) }
    }
    public func addSafeguardingConcern(childId: String, concern: SafeguardingConcernInput) async throws -> String {
        try await io { try $0.addSafeguardingConcern(childId: childId, concern: concern) }
    }
    public func safeguardingHistory(childId: String) async throws -> [HistoryItem] {
        try await io { try $0.safeguardingHistory(childId: childId) }
    }
    public func addCarerTraining(riskAssessmentId: String, training: CarerTrainingInput) async throws -> String {
        try await io { try $0.addCarerTraining(riskAssessmentId: riskAssessmentId, training: training) }
    }
    public func carerTraining(riskAssessmentId: String) async throws -> [CarerTrainingItem] {
        try await io { try $0.carerTraining(riskAssessmentId: riskAssessmentId) }
    }
    public func setChildViews(assessmentId: String, mode: ChildViewsMode, text: String?) async throws {
        try await io { try $0.setChildViews(assessmentId: assessmentId, mode: mode, text: text) }
    }
    public func setOfferTier(referralId: String, tier: OfferTier) async throws {
        try await io { try $0.setOfferTier(referralId: referralId, tier: tier) }
    }
    public func overrideEligibility(referralId: String, reason: String) async throws {
        try await io { try $0.overrideEligibility(referralId: referralId, reason: reason) }
    }
    public func eligibilityException(referralId: String) async throws -> EligibilityException? {
        try await io { try $0.eligibilityException(referralId: referralId) }
    }

    // MARK: observers as streams

    /// The caseload now and after every change (a slow consumer sees the latest).
    public func caseloadUpdates() -> AsyncStream<[CaseloadItem]> {
        observe { store, continuation in
            store.observeCaseload(observer: CaseloadRelay(continuation))
        }
    }

    /// The records the server lacks changes of, now and after every change and sync.
    public func unsyncedUpdates() -> AsyncStream<[RecordItem]> {
        observe { store, continuation in
            store.observeSyncStatus(observer: SyncStatusRelay(continuation))
        }
    }

    /// Emits the record id once when the observer is registered, then each time the record
    /// changes (locally or by sync); finishes with the error if the id is malformed.
    /// Registering first and then emitting means no change between a screen's first read and
    /// its registration is missed.
    public func recordChanges(recordId: String) -> AsyncThrowingStream<String, Error> {
        let store = self.store
        return AsyncThrowingStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let registration = Registration()
            continuation.onTermination = { _ in registration.cancel() }
            executor.submit {
                do {
                    registration.set(try store.observeRecord(recordId: recordId, observer: RecordRelay(continuation)))
                    continuation.yield(recordId)
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    /// The record's view now and after every change.
    public func recordUpdates(recordId: String) -> AsyncThrowingStream<RecordView, Error> {
        let changes = recordChanges(recordId: recordId)
        return AsyncThrowingStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task {
                do {
                    for try await id in changes {
                        continuation.yield(try await self.view(recordId: id))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Registers a core observer on the executor; the stream's end cancels its handle.
    private func observe<T>(_ register: @escaping (Store, AsyncStream<T>.Continuation) -> ObserverHandle) -> AsyncStream<T> {
        let store = self.store
        return AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let registration = Registration()
            continuation.onTermination = { _ in registration.cancel() }
            executor.submit {
                registration.set(register(store, continuation))
            }
        }
    }

    // MARK: sync

    /// Whether a server is configured, i.e. whether `syncNow` can do anything.
    public var canSync: Bool { server != nil }

    /// Where sync stands now.
    public var syncState: SyncState {
        syncLock.lock()
        defer { syncLock.unlock() }
        return currentSyncState
    }

    /// The sync state now and after every change.
    public func syncStateUpdates() -> AsyncStream<SyncState> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let id = UUID()
            syncLock.lock()
            syncListeners[id] = continuation
            let now = currentSyncState
            syncLock.unlock()
            continuation.yield(now)
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                self.syncLock.lock()
                self.syncListeners[id] = nil
                self.syncLock.unlock()
            }
        }
    }

    private func updateSyncState(_ change: (inout SyncState) -> Void) {
        syncLock.lock()
        change(&currentSyncState)
        let value = currentSyncState
        let targets = Array(syncListeners.values)
        syncLock.unlock()
        for continuation in targets {
            continuation.yield(value)
        }
    }

    /// Runs one sync with the team server (a second request waits for the running one, then
    /// syncs again). Never throws for a failed sync: the failure is in the outcome and in
    /// `syncState`; cancellation ends it as a failure too.
    public func syncNow(reason: SyncReason) async -> SyncOutcome {
        guard let server else { return .notConfigured }
        await syncGate.acquire()
        let gate = syncGate
        defer { Task { await gate.release() } }
        updateSyncState {
            $0.running = true
            $0.progress = nil
            $0.lastReason = reason
        }
        do {
            let client = try await syncClient(server)
            let summary = try await client.sync(progress: ProgressRelay { [weak self] p in
                self?.updateSyncState { $0.progress = p }
            })
            let finishedAt = clock()
            updateSyncState {
                $0.running = false
                $0.lastSummary = summary
                $0.lastError = nil
                if summary.complete { $0.lastSyncedAt = finishedAt }
            }
            return .done(summary)
        } catch {
            let err = toUiError(error)
            updateSyncState {
                $0.running = false
                $0.lastError = err
            }
            return .failed(err)
        }
    }

    private func syncClient(_ server: ServerConfig) async throws -> SyncClient {
        syncLock.lock()
        let existing = client
        syncLock.unlock()
        if let existing { return existing }
        let store = self.store
        let made = try await executor.run { try SyncClient(store: store, url: server.url, token: server.token) }
        syncLock.lock()
        client = made
        syncLock.unlock()
        return made
    }

    /// Closes the store (later calls fail with `DatabaseClosed`) and drops the sync client.
    public func closeStore() async throws {
        syncLock.lock()
        client = nil
        syncLock.unlock()
        try await io { try $0.closeStore() }
    }
}

/// Holds an observer handle that may arrive after the stream already ended.
private final class Registration: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: ObserverHandle?
    private var cancelled = false

    func set(_ h: ObserverHandle) {
        lock.lock()
        let late = cancelled
        if !late { handle = h }
        lock.unlock()
        if late { h.cancel() }
    }

    func cancel() {
        lock.lock()
        cancelled = true
        let h = handle
        handle = nil
        lock.unlock()
        h?.cancel()
    }
}

/// One sync at a time, in arrival order.
private actor SerialGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

private final class CaseloadRelay: CaseloadObserver, @unchecked Sendable {
    private let continuation: AsyncStream<[CaseloadItem]>.Continuation
    init(_ c: AsyncStream<[CaseloadItem]>.Continuation) { continuation = c }
    func onCaseload(caseload: [CaseloadItem]) { continuation.yield(caseload) }
}

private final class SyncStatusRelay: SyncStatusObserver, @unchecked Sendable {
    private let continuation: AsyncStream<[RecordItem]>.Continuation
    init(_ c: AsyncStream<[RecordItem]>.Continuation) { continuation = c }
    func onSyncStatus(unsynced: [RecordItem]) { continuation.yield(unsynced) }
}

private final class RecordRelay: RecordObserver, @unchecked Sendable {
    private let continuation: AsyncThrowingStream<String, Error>.Continuation
    init(_ c: AsyncThrowingStream<String, Error>.Continuation) { continuation = c }
    func onRecordChanged(recordId: String) { continuation.yield(recordId) }
}

private final class ProgressRelay: SyncProgressObserver, @unchecked Sendable {
    private let report: (SyncProgress) -> Void
    init(_ report: @escaping (SyncProgress) -> Void) { self.report = report }
    func onProgress(progress: SyncProgress) { report(progress) }
}

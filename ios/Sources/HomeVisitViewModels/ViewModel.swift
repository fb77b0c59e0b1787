// Screen logic without SwiftUI: each view model holds one immutable state struct, published on
// the main actor, takes events as plain methods and talks to the core through the HomeVisit
// facade. SwiftUI views render `state`; the names mirror the Android presenters
// (android/homevisit/src/main/kotlin/app/homevisit/presenters/Presenter.kt).
import Combine
import Foundation
import HomeVisitCore
import HomeVisitKit

/// A screen state that carries an error banner.
public protocol ScreenState: Equatable {
    /// The last event's failure, cleared by the next event.
    var error: UiError? { get set }
}

/// The base of every view model (the Kotlin `Presenter`).
///
/// Events are methods that start work on the main actor and return its `Task` (views ignore
/// it; tests await `.value`). A failure never escapes: it becomes the state's `error`
/// (`UiError` with its rule ID), and the next event clears it.
@MainActor
public class ViewModel<S: ScreenState>: ObservableObject {
    /// The screen's state; the only thing a view reads.
    @Published public private(set) var state: S

    private let bag = TaskBag()

    init(initial: S) {
        state = initial
    }

    deinit {
        bag.cancelAll()
    }

    /// Replaces the state with a function of the current one.
    func update(_ change: (inout S) -> Void) {
        var next = state
        change(&next)
        if next != state { state = next }
    }

    /// Starts long-lived work (an observer loop) that `close()` cancels.
    func launch(_ body: @escaping @MainActor () async -> Void) {
        bag.add(Task { @MainActor in await body() })
    }

    /// Runs an event: clears the previous error, records a new one.
    @discardableResult
    func act(_ body: @escaping @MainActor () async throws -> Void) -> Task<Void, Never> {
        update { $0.error = nil }
        let id = UUID()
        let bag = self.bag
        let task = Task { @MainActor [weak self] in
            defer { bag.remove(id) }
            do {
                try await body()
            } catch is CancellationError {
                return
            } catch let e as InputFormatError {
                self?.reject(ruleId: e.ruleId, text: e.text)
            } catch {
                let ui = toUiError(error)
                self?.update { $0.error = ui }
            }
        }
        bag.add(task, id: id)
        return task
    }

    /// Runs observer-driven work (a reload after a change elsewhere): a failure is shown as the
    /// state's error, never thrown into the observer loop.
    /// Refreshes started so far. A refresh applies what it read only if no later refresh has
    /// started meanwhile, so an older read never overwrites a newer one (the Kotlin presenters
    /// run their refreshes one at a time for the same reason).
    private var refreshesStarted = 0

    /// Starts a refresh; check `isLatest` with the number before applying what it read.
    func beginRefresh() -> Int {
        refreshesStarted += 1
        return refreshesStarted
    }

    /// Whether refresh `n` is still the latest one started.
    func isLatest(_ n: Int) -> Bool {
        n == refreshesStarted
    }

    func guarded(_ body: () async throws -> Void) async {
        do {
            try await body()
        } catch is CancellationError {
            return
        } catch {
            let ui = toUiError(error)
            update { $0.error = ui }
        }
    }

    /// Shows an input problem found before calling the core (e.g. letters in a number).
    func reject(ruleId: String, text: String) {
        update { $0.error = UiError(kind: .invalidInput, ruleId: ruleId, text: "[\(ruleId)] \(text)") }
    }

    /// Clears the error banner.
    public func dismissError() {
        update { $0.error = nil }
    }

    /// Stops the view model's work and observers.
    public func close() {
        bag.cancelAll()
    }
}

/// The running tasks of one view model, cancelled together; an event's task leaves the bag
/// when it ends.
final class TaskBag: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [UUID: Task<Void, Never>] = [:]

    func add(_ task: Task<Void, Never>, id: UUID = UUID()) {
        lock.lock()
        tasks[id] = task
        lock.unlock()
    }

    func remove(_ id: UUID) {
        lock.lock()
        tasks[id] = nil
        lock.unlock()
    }

    func cancelAll() {
        lock.lock()
        let all = Array(tasks.values)
        tasks = [:]
        lock.unlock()
        all.forEach { $0.cancel() }
    }
}

/// One validation issue as a screen lists it, under its field and in the sign/submit panel.
///
/// - `ruleId`: the DOMAIN.md rule, always shown (`MH-SWL`, `FLD-HARD`…).
/// - `severity`: ERROR blocks; WARN needs an acknowledgement with a reason (`FLD-ACK`).
/// - `text`: the core's sentence, starting with `[RULE-ID]`.
/// - `value`: the offending value in canonical units, when there is one.
/// - `acknowledged`: a WARN with a current acknowledgement (it no longer blocks).
public struct IssueRow: Equatable, Hashable, Sendable {
    public let ruleId: String
    public let path: String
    public let severity: Severity
    public let text: String
    public let value: String?
    public let acknowledged: Bool

    /// An ERROR.
    public var isError: Bool { severity == .error }
    /// Blocks sign/submit now: an ERROR or an unacknowledged WARN.
    public var blocking: Bool { isError || !acknowledged }
    /// A WARN the user can acknowledge now.
    public var canAcknowledge: Bool { !isError && !acknowledged }
}

/// Rows for `all` issues, each WARN marked acknowledged when it is not among `blocking`;
/// ERRORs first, then unacknowledged WARNs, then by path.
public func issueRows(_ all: [ValidationIssue], _ blocking: [ValidationIssue]) -> [IssueRow] {
    let open = Set(blocking.map { "\($0.ruleId)\u{0}\($0.path)" })
    let rows = all.map {
        IssueRow(
            ruleId: $0.ruleId,
            path: $0.path,
            severity: $0.severity,
            text: $0.detail,
            value: $0.value,
            acknowledged: $0.severity == .warn && !open.contains("\($0.ruleId)\u{0}\($0.path)")
        )
    }
    return rows.enumerated().sorted { a, b in
        let ka = (a.element.isError ? 0 : 1, a.element.acknowledged ? 1 : 0)
        let kb = (b.element.isError ? 0 : 1, b.element.acknowledged ? 1 : 0)
        if ka != kb { return ka < kb }
        if a.element.path != b.element.path { return a.element.path < b.element.path }
        return a.offset < b.offset  // stable, as Kotlin's sortedWith
    }.map(\.element)
}

extension Array where Element == IssueRow {
    /// Issues of one field path (or anything below it).
    public func under(_ path: String) -> [IssueRow] {
        filter { $0.path == path || $0.path.hasPrefix(path + ".") }
    }
}

// What every record form shares: it follows the record (the core's record observer), writes
// typed values, toggles codes, adds and removes list items, acknowledges WARNs with a reason
// (FLD-ACK) and signs (RK-SIGN). The concrete forms only turn a RecordSnapshot into their state.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/RecordFormPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

@MainActor
public class RecordFormViewModel<S: ScreenState>: ViewModel<S> {
    let hv: HomeVisit
    let recordId: String

    /// The id of the item the last `addItem` created.
    public private(set) var lastAddedItemId: String?

    init(hv: HomeVisit, recordId: String, initial: S) {
        self.hv = hv
        self.recordId = recordId
        super.init(initial: initial)
    }

    /// Starts following the record (first read included: the record stream emits once on
    /// registration); call at the end of the subclass's init.
    func start() {
        let changes = hv.recordChanges(recordId: recordId)
        launch { [weak self] in
            do {
                for try await _ in changes {
                    guard let self else { return }
                    await self.guarded { try await self.reload() }
                }
            } catch {
                // A malformed id ends the stream: shown like any failed read.
                let ui = toUiError(error)
                self?.update { $0.error = ui }
            }
        }
    }

    /// Builds the screen's state from a fresh read of the record (overridden by each form).
    func from(_ state: S, _ snapshot: RecordSnapshot) -> S {
        state
    }

    /// The spec of a field this form shows, to know how to convert typed input.
    func spec(_ path: String) -> FieldSpec? {
        nil
    }

    /// Reads the record and rebuilds the state; forms that show more (workflow) add to it.
    func reload() async throws {
        let n = beginRefresh()
        let snap = try await hv.snapshot(recordId: recordId)
        guard isLatest(n) else { return }
        update { $0 = self.from($0, snap) }
    }

    /// Reads the record again.
    @discardableResult
    public func load() -> Task<Void, Never> {
        act { try await self.reload() }
    }

    /// Sets a field from what was typed. Out-of-range values are kept and flagged (their issue
    /// shows under the field); wrong-type input is refused with `FLD-FORMAT`; a signed record
    /// refuses with `RK-SIGN-LOCK` (use an addendum).
    @discardableResult
    public func setValue(_ path: String, _ input: String) -> Task<Void, Never> {
        act {
            let spec = self.spec(path) ?? FieldSpec(path: path, label: path, kind: .text)
            try await self.hv.write(recordId: self.recordId, spec: spec, input: input)
            try await self.reload()
        }
    }

    /// Sets a field to a value built by the screen (e.g. a picked item id).
    @discardableResult
    public func setRaw(_ path: String, _ value: FieldValue) -> Task<Void, Never> {
        act {
            try await self.hv.setField(recordId: self.recordId, path: path, value: value)
            try await self.reload()
        }
    }

    /// Adds or removes one code of a code set (`CF-SET`).
    @discardableResult
    public func toggleCode(_ path: String, _ code: String, on: Bool) -> Task<Void, Never> {
        act {
            if on {
                try await self.hv.addCode(recordId: self.recordId, setPath: path, code: code)
            } else {
                try await self.hv.removeCode(recordId: self.recordId, setPath: path, code: code)
            }
            try await self.reload()
        }
    }

    /// Adds an item to a list (`CF-LIST`) with `fields` as typed; numbers in whole units, kg
    /// and cm as `32.4` (sent as tenths). Its id is then `lastAddedItemId`.
    @discardableResult
    public func addItem(_ listPath: String, _ fields: [String: JsonValue]) -> Task<Void, Never> {
        act {
            let id = try await self.hv.addItem(recordId: self.recordId, listPath: listPath, fieldsJson: Json.write(.object(fields)))
            self.lastAddedItemId = id
            try await self.reload()
        }
    }

    /// Marks a list item removed (it stays in history).
    @discardableResult
    public func removeItem(_ itemPath: String) -> Task<Void, Never> {
        act {
            try await self.hv.removeItem(recordId: self.recordId, itemPath: itemPath)
            try await self.reload()
        }
    }

    /// Acknowledges a WARN with a reason (`FLD-ACK`); it lapses if the value changes.
    @discardableResult
    public func acknowledge(_ ruleId: String, _ path: String, reason: String) -> Task<Void, Never> {
        act {
            try await self.hv.acknowledge(recordId: self.recordId, ruleId: ruleId, path: path, reason: reason)
            try await self.reload()
        }
    }

    /// Signs (`RK-SIGN`). Refused while an ERROR or unacknowledged WARN remains: the error then
    /// lists them with rule IDs and the record stays a draft.
    @discardableResult
    public func sign() -> Task<Void, Never> {
        act {
            do {
                _ = try await self.hv.sign(recordId: self.recordId)
            } catch {
                try? await self.reload()
                throw error
            }
            try await self.reload()
        }
    }
}

// Conflict resolution (CF-CLINICAL, SAF-SILENT-CONFLICT): each clinical field with concurrent
// values lists every candidate with who wrote it, on which device and when; the user picks one
// and the core records the choice (action `resolve`). Until then the record cannot be signed,
// submitted or moved on (CF-BLOCK).
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/ConflictResolutionPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// One candidate value.
///
/// - `valueJson`: the value as the core stores it (`324` for 32.4 kg).
/// - `display`: the value for a person (`32.4 kg`).
/// - `mine`: written by the signed-in user.
public struct CandidateUi: Equatable, Sendable {
    public let valueJson: String
    public let display: String
    public let userId: String?
    public let role: Role?
    public let deviceId: String?
    public let at: String?
    public let mine: Bool
}

/// A field in conflict; `selectedIndex` is the candidate picked, `nil` until one is.
public struct ConflictUi: Equatable, Identifiable, Sendable {
    public let path: String
    public let candidates: [CandidateUi]
    public var selectedIndex: Int?

    public var id: String { path }

    /// The picked candidate.
    public var selected: CandidateUi? {
        guard let i = selectedIndex, candidates.indices.contains(i) else { return nil }
        return candidates[i]
    }
}

/// - `conflicts`: the open conflicts of the record.
/// - `resolvedPaths`: fields resolved on this screen.
public struct ConflictResolutionState: ScreenState {
    public let recordId: String
    public var banner: Banner?
    public var conflicts: [ConflictUi] = []
    public var resolvedPaths: [String] = []
    public var loading: Bool = true
    public var error: UiError?

    public init(recordId: String) {
        self.recordId = recordId
    }

    /// Nothing left to resolve.
    public var allResolved: Bool { !loading && conflicts.isEmpty }
}

extension FieldConflict {
    func toUi(myUserId: String, previous: ConflictUi?) -> ConflictUi {
        ConflictUi(
            path: path,
            candidates: candidates.map {
                CandidateUi(
                    valueJson: $0.valueJson,
                    display: displayValue(path, (try? Json.parse($0.valueJson)) ?? .string($0.valueJson)),
                    userId: $0.author.userId,
                    role: $0.author.role,
                    deviceId: $0.author.deviceId,
                    at: $0.author.at,
                    mine: $0.author.userId == myUserId
                )
            },
            selectedIndex: previous?.selectedIndex
        )
    }
}

/// Events: `choose`, `resolve`, `load`. Follows the record (a sync may add or settle some).
@MainActor
public final class ConflictResolutionViewModel: ViewModel<ConflictResolutionState> {
    private let hv: HomeVisit
    private let recordId: String

    public init(hv: HomeVisit, recordId: String) {
        self.hv = hv
        self.recordId = recordId
        super.init(initial: ConflictResolutionState(recordId: recordId))
        // The record stream emits once on registration: that is the first read.
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

    /// Reads the record's conflicts again.
    @discardableResult
    public func load() -> Task<Void, Never> {
        act { try await self.reload() }
    }

    /// Picks candidate `index` of the conflict at `path`.
    @discardableResult
    public func choose(_ path: String, _ index: Int) -> Task<Void, Never> {
        act {
            guard let c = self.state.conflicts.first(where: { $0.path == path }) else { return }
            guard c.candidates.indices.contains(index) else {
                throw UiError(kind: .invalidInput, ruleId: nil, text: "no candidate \(index) at \(path)")
            }
            self.update { s in
                s.conflicts = s.conflicts.map {
                    var next = $0
                    if $0.path == path { next.selectedIndex = index }
                    return next
                }
            }
        }
    }

    /// Writes the picked value of `path` as the resolution.
    @discardableResult
    public func resolve(_ path: String) -> Task<Void, Never> {
        act {
            guard let c = self.state.conflicts.first(where: { $0.path == path }) else {
                throw UiError(kind: .notFound, ruleId: nil, text: "no conflict at \(path)")
            }
            guard let chosen = c.selected else {
                throw InputFormatError(ruleId: "CF-CLINICAL", text: "pick one of the values first")
            }
            try await self.hv.resolve(recordId: self.recordId, path: path, valueJson: chosen.valueJson)
            self.update { $0.resolvedPaths.append(path) }
            try await self.reload()
        }
    }

    private func reload() async throws {
        let n = beginRefresh()
        let view = try await hv.view(recordId: recordId)
        let me = hv.identity.userId
        guard isLatest(n) else { return }
        update { s in
            let previous = s.conflicts
            s.banner = view.banner
            s.conflicts = view.conflicts.map { c in c.toUi(myUserId: me, previous: previous.first { $0.path == c.path }) }
            s.loading = false
        }
    }
}

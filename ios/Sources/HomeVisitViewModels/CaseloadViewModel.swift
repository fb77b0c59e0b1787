// Caseload screen: every child on this device with counts, search by name / NHS number / DOB,
// and filters for what needs attention.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/CaseloadPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// Which children the caseload shows.
public enum CaseloadFilter: String, CaseIterable, Sendable {
    /// Everyone.
    case all
    /// Children with a form waiting for a signature or countersignature.
    case needsSignature
    /// Children with records the server lacks changes of (`SAF-LOST-EDIT`).
    case unsynced
    /// Children with records in conflict (`CF-CLINICAL`).
    case conflicts
    /// Children with a missed-visit warning (`CH-VISIT-MISSED`) or a safeguarding status.
    case safeguarding
}

/// One child in the list.
///
/// - `name`: preferred name if any, else given + family name.
/// - `nhsNumber`: `943 476 5919` (3-3-4), when known.
/// - `safeguardingStatus`: child protection plan, child in need, looked after… when set.
/// - `missedVisitWarning`: `CH-VISIT-MISSED`: two missed visits, consider a safeguarding referral.
public struct CaseloadRow: Equatable, Identifiable, Sendable {
    public let childId: String
    public let name: String
    public let dateOfBirth: String?
    public let nhsNumber: String?
    public let recordCount: Int
    public let awaitingSignatureCount: Int
    public let unsyncedCount: Int
    public let conflictCount: Int
    public let safeguardingStatus: SafeguardingStatus?
    public let missedVisitWarning: String?

    public var id: String { childId }
}

/// - `query`: the search text (name, NHS number with or without spaces, DOB).
/// - `filter`: the active filter.
/// - `rows`: the children shown: matching `query` and `filter`, by family name.
/// - `totalChildren`: children on the device, unfiltered.
/// - `loading`: the first caseload has not arrived yet.
public struct CaseloadState: ScreenState {
    public var query: String = ""
    public var filter: CaseloadFilter = .all
    public var rows: [CaseloadRow] = []
    public var totalChildren: Int = 0
    public var loading: Bool = true
    public var error: UiError?

    public init() {}
}

/// Formats ten digits as 3-3-4 (`SAF-WRONG-CHILD` banner style).
public func nhs334(_ n: String?) -> String? {
    guard let n else { return nil }
    let d = Array(n.filter(\.isNumber))
    guard d.count == 10 else { return n }
    return "\(String(d[0..<3])) \(String(d[3..<6])) \(String(d[6...]))"
}

extension CaseloadItem {
    func toRow() -> CaseloadRow {
        let first = (preferredName.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }) ?? givenName
        let joined = [first, familyName].compactMap { $0 }.joined(separator: " ")
        return CaseloadRow(
            childId: childId,
            name: joined.trimmingCharacters(in: .whitespaces).isEmpty ? "(no name)" : joined,
            dateOfBirth: dateOfBirth,
            nhsNumber: nhs334(nhsNumber),
            recordCount: Int(recordCount),
            awaitingSignatureCount: Int(awaitingSignatureCount),
            unsyncedCount: Int(unsyncedCount),
            conflictCount: Int(conflictCount),
            safeguardingStatus: safeguardingStatus,
            missedVisitWarning: missedVisitWarning
        )
    }
}

/// Events: `search`, `selectFilter`, `refresh`. The list follows the store (the core's caseload
/// observer) while the view model lives.
@MainActor
public final class CaseloadViewModel: ViewModel<CaseloadState> {
    private let hv: HomeVisit
    private var all: [CaseloadItem] = []

    public init(hv: HomeVisit) {
        self.hv = hv
        super.init(initial: CaseloadState())
        let updates = hv.caseloadUpdates()
        launch { [weak self] in
            for await items in updates {
                guard let self else { return }
                self.all = items
                await self.guarded { try await self.rebuild() }
            }
        }
    }

    /// Sets the search text; blank shows everyone.
    @discardableResult
    public func search(_ text: String) -> Task<Void, Never> {
        update { $0.query = text }
        return act { try await self.rebuild() }
    }

    /// Shows only the children the filter selects.
    @discardableResult
    public func selectFilter(_ filter: CaseloadFilter) -> Task<Void, Never> {
        update { $0.filter = filter }
        return act { try await self.rebuild() }
    }

    /// Reads the caseload again (pull to refresh).
    @discardableResult
    public func refresh() -> Task<Void, Never> {
        act {
            self.all = try await self.hv.caseload()
            try await self.rebuild()
        }
    }

    private func rebuild() async throws {
        let s = state
        var matching = all
        if !s.query.trimmingCharacters(in: .whitespaces).isEmpty {
            let found = try await hv.search(text: s.query)
            let hits = Set(found.map(\.childId))
            // Counts come from the observed caseload so a search shows the same badges.
            matching = all.filter { hits.contains($0.childId) }
        }
        let rows = matching.filter {
            switch s.filter {
            case .all: return true
            case .needsSignature: return $0.awaitingSignatureCount > 0
            case .unsynced: return $0.unsyncedCount > 0
            case .conflicts: return $0.conflictCount > 0
            case .safeguarding:
                return $0.missedVisitWarning != nil
                    || ($0.safeguardingStatus != nil && $0.safeguardingStatus != .none && $0.safeguardingStatus != .unknown)
            }
        }.map { $0.toRow() }.sorted {
            let a = (familyKey($0.name), $0.name.lowercased())
            let b = (familyKey($1.name), $1.name.lowercased())
            return a < b
        }
        let total = all.count
        // A rebuild for an older query or filter must not overwrite a newer one.
        update {
            guard $0.query == s.query && $0.filter == s.filter else { return }
            $0.rows = rows
            $0.totalChildren = total
            $0.loading = false
        }
    }
}

private func familyKey(_ name: String) -> String {
    (name.split(separator: " ").last.map(String.init) ?? name).lowercased()
}

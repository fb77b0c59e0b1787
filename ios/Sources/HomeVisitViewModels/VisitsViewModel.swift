// Visits and safeguarding of one child (DOMAIN.md §3.7): the visits with their outcomes (seen,
// no access, was not brought, cancelled), the missed-visit warning (CH-VISIT-MISSED), the
// safeguarding status with the allocated social worker, and concerns raised.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/VisitsPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// A visit in the child's list. `missed` is no access or was not brought (`CH-VISIT-MISSED`).
public struct VisitRow: Equatable, Identifiable, Sendable {
    public let visitId: String
    public let plannedOn: String?
    public let place: VisitPlace?
    public let visitorName: String?
    public let outcome: VisitOutcome?
    public let outcomeLabel: String
    public let reason: String?
    public let followUp: String?
    public let assessmentId: String?
    public let missed: Bool

    public var id: String { visitId }
}

/// The label of a visit outcome; "Planned" while none is recorded.
public func outcomeLabel(_ outcome: VisitOutcome?) -> String {
    switch outcome {
    case nil: return "Planned"
    case .seen: return "Seen"
    case .noAccess: return "No access"
    case .wasNotBrought: return "Was not brought / not available"
    case .cancelledByFamily: return "Cancelled by the family"
    case .cancelledByService: return "Cancelled by the service"
    }
}

extension VisitItem {
    func toRow() -> VisitRow {
        VisitRow(
            visitId: visitId,
            plannedOn: plannedOn,
            place: place,
            visitorName: visitorName,
            outcome: outcome,
            outcomeLabel: outcomeLabel(outcome),
            reason: reason,
            followUp: followUp,
            assessmentId: assessmentId,
            missed: outcome == .noAccess || outcome == .wasNotBrought
        )
    }
}

/// - `banner`: the child banner, with the safeguarding status and warnings.
/// - `visits`: newest planned date first.
/// - `missedVisitWarning`: `CH-VISIT-MISSED` ("consider a safeguarding referral"), when it applies.
/// - `safeguardingStatus`: the status; `.unknown` until set.
/// - `safeguardingChanges`: how many attributed changes the safeguarding history holds.
/// - `lastVisitId`: the visit the last `recordVisit`/`planVisit` event made.
public struct VisitsState: ScreenState {
    public let childId: String
    public var banner: Banner?
    public var visits: [VisitRow] = []
    public var missedVisitWarning: String?
    public var safeguardingStatus: SafeguardingStatus?
    public var safeguardingLabel: String?
    public var socialWorker: String?
    public var safeguardingChanges: Int = 0
    public var lastVisitId: String?
    public var loading: Bool = true
    public var error: UiError?

    public init(childId: String) {
        self.childId = childId
    }
}

/// Events: `load`, `planVisit`, `recordVisit`, `recordOutcome`, `setSafeguarding`,
/// `raiseConcern`. Follows the caseload observer, so visits recorded on another tablet appear
/// after sync. Refusals carry their rule IDs (`CH-VISIT-OUTCOME`, `CH-VISIT-SEEN`,
/// `CH-SG-STATUS`, `CH-SG-CONCERN`).
@MainActor
public final class VisitsViewModel: ViewModel<VisitsState> {
    private let hv: HomeVisit
    private let childId: String

    public init(hv: HomeVisit, childId: String) {
        self.hv = hv
        self.childId = childId
        super.init(initial: VisitsState(childId: childId))
        load()
        let updates = hv.caseloadUpdates()
        launch { [weak self] in
            var first = true
            for await _ in updates {
                if first { first = false; continue }
                guard let self else { return }
                await self.guarded { try await self.reload() }
            }
        }
    }

    /// Reads the banner, visits and safeguarding history.
    @discardableResult
    public func load() -> Task<Void, Never> {
        act { try await self.reload() }
    }

    /// Plans a visit.
    @discardableResult
    public func planVisit(_ plannedOn: String, place: VisitPlace, plannedTime: String? = nil, visitorName: String? = nil) -> Task<Void, Never> {
        act {
            let id = try await self.hv.planVisit(
                childId: self.childId,
                visit: VisitPlanInput(plannedOn: plannedOn, plannedTime: plannedTime, place: place, visitorName: visitorName)
            )
            self.update { $0.lastVisitId = id }
            try await self.reload()
        }
    }

    /// Records a visit with its outcome at once (a visit where nobody answered needs no form).
    @discardableResult
    public func recordVisit(
        _ plannedOn: String, place: VisitPlace, outcome: VisitOutcome, reason: String?, followUp: String?,
        assessmentId: String? = nil
    ) -> Task<Void, Never> {
        act {
            let id = try await self.hv.recordVisit(
                childId: self.childId,
                visit: VisitPlanInput(plannedOn: plannedOn, plannedTime: nil, place: place, visitorName: nil),
                outcome: VisitResultInput(outcome: outcome, reason: reason, followUp: followUp, assessmentId: assessmentId)
            )
            self.update { $0.lastVisitId = id }
            try await self.reload()
        }
    }

    /// Records the outcome of a planned visit.
    @discardableResult
    public func recordOutcome(
        _ visitId: String, outcome: VisitOutcome, reason: String?, followUp: String?, assessmentId: String? = nil
    ) -> Task<Void, Never> {
        act {
            try await self.hv.recordVisitOutcome(
                childId: self.childId,
                visitId: visitId,
                outcome: VisitResultInput(outcome: outcome, reason: reason, followUp: followUp, assessmentId: assessmentId)
            )
            try await self.reload()
        }
    }

    /// Sets the safeguarding status and social worker (attributed, in the history).
    @discardableResult
    public func setSafeguarding(_ update: SafeguardingUpdate) -> Task<Void, Never> {
        act {
            try await self.hv.setSafeguarding(childId: self.childId, update: update)
            try await self.reload()
        }
    }

    /// Records a concern raised: what, to whom, when, reference.
    @discardableResult
    public func raiseConcern(_ concern: SafeguardingConcernInput) -> Task<Void, Never> {
        act {
            _ = try await self.hv.addSafeguardingConcern(childId: self.childId, concern: concern)
            try await self.reload()
        }
    }

    private func reload() async throws {
        let n = beginRefresh()
        let banner = try await hv.banner(childId: childId)
        let visits = try await hv.visits(childId: childId).map { $0.toRow() }
            .sorted { ($0.plannedOn ?? "") > ($1.plannedOn ?? "") }
        let changes = try await hv.safeguardingHistory(childId: childId).count
        guard isLatest(n) else { return }
        update { s in
            s.banner = banner
            s.visits = visits
            s.missedVisitWarning = banner.warnings.first { $0.ruleId == "CH-VISIT-MISSED" }?.detail
            s.safeguardingStatus = banner.safeguardingStatus
            s.safeguardingLabel = banner.safeguardingLabel
            s.socialWorker = banner.socialWorker
            s.safeguardingChanges = changes
            s.loading = false
        }
    }
}

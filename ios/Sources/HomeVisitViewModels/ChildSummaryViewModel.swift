// Child summary: the banner (SAF-WRONG-CHILD), the child's records with their sign/sync state,
// and each referral's eligibility outcome with its rule IDs and reasons (DOMAIN.md §2.2).
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/ChildSummaryPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// The kinds of record a child has, by schema (docs/DOCUMENT-LAYOUT.md).
public enum RecordKind: String, CaseIterable, Sendable {
    case child = "homevisit/child"
    case referral = "homevisit/referral"
    case assessment = "homevisit/assessment"
    case riskAssessment = "homevisit/risk_assessment"
    case equipmentRequest = "homevisit/equipment_request"

    public var schema: RecordSchema {
        switch self {
        case .child: return .child
        case .referral: return .referral
        case .assessment: return .assessment
        case .riskAssessment: return .riskAssessment
        case .equipmentRequest: return .equipmentRequest
        }
    }

    public var label: String {
        switch self {
        case .child: return "Child"
        case .referral: return "Referral"
        case .assessment: return "Home visit"
        case .riskAssessment: return "M&H risk assessment"
        case .equipmentRequest: return "Equipment request"
        }
    }

    /// `nil` for a record whose schema this version does not know.
    public static func of(_ schema: RecordSchema?) -> RecordKind? {
        allCases.first { $0.schema == schema }
    }
}

/// A record in the child's list.
public struct RecordRow: Equatable, Identifiable, Sendable {
    public let recordId: String
    public let kind: RecordKind?
    public let title: String
    public let status: String
    public let updatedAt: String?
    public let syncStatus: SyncStatus
    public let conflictCount: Int
    public let needsSignature: Bool

    public var id: String { recordId }
}

extension RecordItem {
    func toRow() -> RecordRow {
        RecordRow(
            recordId: recordId,
            kind: RecordKind.of(schema),
            title: title,
            status: status,
            updatedAt: updatedAt,
            syncStatus: syncStatus,
            conflictCount: Int(conflictCount),
            needsSignature: needsSignature
        )
    }
}

/// `eligible`, `not_eligible`, `needs_information` (DOMAIN.md §2.2).
public enum EligibilityOutcome: String, Sendable {
    case eligible = "eligible"
    case notEligible = "not_eligible"
    case needsInformation = "needs_information"

    public var code: String { rawValue }

    public var label: String {
        switch self {
        case .eligible: return "Eligible"
        case .notEligible: return "Not eligible"
        case .needsInformation: return "Needs information"
        }
    }

    public static func of(_ code: String) -> EligibilityOutcome? { EligibilityOutcome(rawValue: code) }

    /// The card's outcome for the core's decision.
    public static func of(_ decision: EligibilityDecision) -> EligibilityOutcome {
        switch decision {
        case .eligible: return .eligible
        case .notEligible: return .notEligible
        case .needsInformation: return .needsInformation
        }
    }
}

/// A failing rule or a declined part: rule ID, sentence, and where to go instead.
public struct ReasonRow: Equatable, Hashable, Sendable {
    public let ruleId: String
    public let text: String
    public let signpost: Signpost?

    public init(ruleId: String, text: String, signpost: Signpost? = nil) {
        self.ruleId = ruleId
        self.text = text
        self.signpost = signpost
    }
}

extension Signpost {
    /// How a signpost reads to the family and the referrer.
    public var label: String {
        switch self {
        case .graduatedOfferSensory: return "the graduated offer on sensory processing"
        case .askProfessionalToRefer: return "ask a professional who knows the child to refer"
        case .familyPartnershipService: return "the Family Partnership Service"
        case .wheelchairService: return "the wheelchair service"
        case .behaviourSupportTeams: return "the behaviour support teams"
        case .ownAreaService: return "the OT service of the child's GP's area"
        case .adultServices: return "adult OT and social-care services"
        }
    }
}

/// The case of a signpost code in a stored eligibility snapshot (`ask_professional_to_refer`);
/// `nil` for one this version does not know.
public func signpostOf(_ code: String?) -> Signpost? {
    guard let code else { return nil }
    switch code {
    case "graduated_offer_sensory": return .graduatedOfferSensory
    case "ask_professional_to_refer": return .askProfessionalToRefer
    case "family_partnership_service": return .familyPartnershipService
    case "wheelchair_service": return .wheelchairService
    case "behaviour_support_teams": return .behaviourSupportTeams
    case "own_area_service": return .ownAreaService
    case "adult_services": return .adultServices
    default: return nil
    }
}

/// One referral's eligibility.
///
/// - `outcome`: `nil` until evaluated.
/// - `reasons`: the failing rules in canonical order (not eligible).
/// - `missing`: field paths to complete (needs information).
/// - `declined`: parts the service does not do (never blocking alone).
/// - `asOf`: the date the rules were evaluated for (`SAF-ELIG-DATE`).
public struct EligibilityCard: Equatable, Identifiable, Sendable {
    public let referralId: String
    public let title: String
    public let outcome: EligibilityOutcome?
    public let reasons: [ReasonRow]
    public let signposts: [Signpost]
    public let missing: [String]
    public let declined: [ReasonRow]
    public let asOf: String?

    public var id: String { referralId }
}

/// - `banner`: name, DOB, NHS number 3-3-4 and alerts, on every record screen.
/// - `records`: the child's records, newest first.
/// - `eligibility`: one card per referral.
/// - `lastCreatedId`: the record the last `create…` event made (the screen opens it).
public struct ChildSummaryState: ScreenState {
    public let childId: String
    public var banner: Banner?
    public var records: [RecordRow] = []
    public var eligibility: [EligibilityCard] = []
    public var lastCreatedId: String?
    public var loading: Bool = true
    public var error: UiError?

    public init(childId: String) {
        self.childId = childId
    }
}

extension Eligibility {
    func toCard(referralId: String, title: String, asOf: String?) -> EligibilityCard {
        EligibilityCard(
            referralId: referralId,
            title: title,
            outcome: EligibilityOutcome.of(outcome),
            reasons: ruleIds.enumerated().map { i, id in ReasonRow(ruleId: id, text: i < reasons.count ? reasons[i] : "") },
            signposts: signpost,
            missing: missing,
            declined: declinedParts.map { ReasonRow(ruleId: $0.ruleId, text: $0.reason, signpost: $0.signpost) },
            asOf: asOf
        )
    }
}

/// The card of a referral's stored snapshot (`eligibility` in its content), if evaluated.
public func storedEligibility(referralId: String, title: String, content: [String: JsonValue]) -> EligibilityCard {
    let snap = content["eligibility"]?.objectValue
    let o = snap?["outcome"]?.objectValue
    func strings(_ k: String) -> [String] {
        (o?[k]?.arrayValue ?? []).map { $0.stringValue ?? Json.write($0) }
    }
    let ids = strings("rule_ids")
    let reasons = strings("reasons")
    return EligibilityCard(
        referralId: referralId,
        title: title,
        outcome: o?["result"]?.stringValue.flatMap(EligibilityOutcome.of),
        reasons: ids.enumerated().map { i, id in ReasonRow(ruleId: id, text: i < reasons.count ? reasons[i] : "") },
        signposts: strings("signpost").compactMap { signpostOf($0) },
        missing: strings("missing"),
        declined: (o?["declined_parts"]?.arrayValue ?? []).compactMap { p in
            guard let m = p.objectValue else { return nil }
            return ReasonRow(
                ruleId: m["rule_id"]?.stringValue ?? "",
                text: m["reason"]?.stringValue ?? "",
                signpost: signpostOf(m["signpost"]?.stringValue)
            )
        },
        asOf: snap?["as_of"]?.stringValue
    )
}

/// Events: `load`, `evaluateEligibility`, `createReferral`, `createAssessment`,
/// `createRiskAssessment`, `createEquipmentRequest`. Follows the caseload observer, so records
/// arriving by sync appear.
@MainActor
public final class ChildSummaryViewModel: ViewModel<ChildSummaryState> {
    private let hv: HomeVisit
    private let childId: String

    public init(hv: HomeVisit, childId: String) {
        self.hv = hv
        self.childId = childId
        super.init(initial: ChildSummaryState(childId: childId))
        load()
        // Any change on the device (a new record, a sync) reloads; the first emission is now.
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

    /// Reads banner, records and eligibility.
    @discardableResult
    public func load() -> Task<Void, Never> {
        act { try await self.reload() }
    }

    /// Evaluates a referral's eligibility as of `asOf` (default: its `received_on`) and stores
    /// the snapshot (DOMAIN.md §2.2 step 7).
    @discardableResult
    public func evaluateEligibility(_ referralId: String, asOf: String? = nil) -> Task<Void, Never> {
        act {
            let e = try await self.hv.evaluateEligibility(referralId: referralId, asOf: asOf)
            try await self.reload()
            // The freshly evaluated outcome, even if the stored snapshot has not been re-read.
            self.update { s in
                s.eligibility = s.eligibility.map {
                    $0.referralId == referralId ? e.toCard(referralId: referralId, title: $0.title, asOf: $0.asOf) : $0
                }
            }
        }
    }

    @discardableResult
    public func createReferral(_ service: Service) -> Task<Void, Never> {
        create { try await self.hv.createReferral(childId: self.childId, service: service) }
    }

    @discardableResult
    public func createAssessment(_ service: Service) -> Task<Void, Never> {
        create { try await self.hv.createAssessment(childId: self.childId, service: service) }
    }

    @discardableResult
    public func createRiskAssessment() -> Task<Void, Never> {
        create { try await self.hv.createRiskAssessment(childId: self.childId) }
    }

    /// A new equipment request; `wheelchair` is refused with `S-WHEELCHAIR`.
    @discardableResult
    public func createEquipmentRequest(_ service: Service, category: EquipmentCategory) -> Task<Void, Never> {
        create { try await self.hv.createEquipmentRequest(childId: self.childId, service: service, category: category) }
    }

    private func create(_ make: @escaping @MainActor () async throws -> String) -> Task<Void, Never> {
        act {
            let id = try await make()
            self.update { $0.lastCreatedId = id }
            try await self.reload()
        }
    }

    private func reload() async throws {
        let n = beginRefresh()
        let banner = try await hv.banner(childId: childId)
        let records = try await hv.recordsOfChild(childId: childId).sorted { ($0.updatedAt ?? "") > ($1.updatedAt ?? "") }
        var cards: [EligibilityCard] = []
        for r in records where RecordKind.of(r.schema) == .referral {
            let view = try await hv.view(recordId: r.recordId)
            cards.append(storedEligibility(referralId: r.recordId, title: r.title, content: try Json.parseObject(view.contentJson)))
        }
        guard isLatest(n) else { return }
        update {
            $0.banner = banner
            $0.records = records.map { $0.toRow() }
            $0.eligibility = cards
            $0.loading = false
        }
    }
}

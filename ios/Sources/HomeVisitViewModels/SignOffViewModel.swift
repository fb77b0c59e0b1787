// Sign, countersign and addenda (DOMAIN.md §4: RK-SIGN, RK-COUNTERSIGN, RK-SIGN-LOCK,
// RK-ADDENDUM, RK-AMEND) for home-visit assessments and risk assessments.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/SignOffPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// An addendum already on the record.
public struct AddendumRow: Equatable, Identifiable, Sendable {
    public let addendumId: String
    public let text: String
    public let reason: String
    public let author: String?
    public let role: String?
    public let at: String?
    public let changedPaths: [String]

    public var id: String { addendumId }
}

/// A field change of an addendum being written: path and new value (JSON, `330` = 33.0 kg).
public struct AmendmentDraft: Equatable, Sendable {
    public let path: String
    public let newValueJson: String

    public init(path: String, newValueJson: String) {
        self.path = path
        self.newValueJson = newValueJson
    }
}

/// - `signState`: draft, signed, awaiting countersignature, countersigned, entered in error.
/// - `blockers`: what stops signing: ERRORs and unacknowledged WARNs, with rule IDs.
/// - `canSign`: draft and nothing blocks.
/// - `canCountersign`: awaiting countersignature and the user is an OT or approver (the core
///   also checks HCPC registration today).
/// - `canAddAddendum`: signed in any way: new information goes in an addendum.
/// - `addenda`: the record's addenda, oldest first.
/// - `signedBy` / `countersignedBy`: user ids from the signature blocks.
public struct SignOffState: ScreenState {
    public let recordId: String
    public var banner: Banner?
    public var signState: SignState?
    public var role: Role = .ap
    public var blockers: [IssueRow] = []
    public var canSign: Bool = false
    public var canCountersign: Bool = false
    public var canAddAddendum: Bool = false
    public var addenda: [AddendumRow] = []
    public var signedBy: String?
    public var countersignedBy: String?
    public var conflictCount: Int = 0
    public var loading: Bool = true
    public var error: UiError?

    public init(recordId: String, role: Role = .ap) {
        self.recordId = recordId
        self.role = role
    }
}

/// Events: `sign`, `countersign`, `addAddendum`, `acknowledge`, `load`.
@MainActor
public final class SignOffViewModel: RecordFormViewModel<SignOffState> {
    public init(hv: HomeVisit, recordId: String) {
        super.init(hv: hv, recordId: recordId, initial: SignOffState(recordId: recordId, role: hv.identity.role))
        start()
    }

    override func spec(_ path: String) -> FieldSpec? { nil }

    /// Countersigns an AP-signed record (`RK-COUNTERSIGN`).
    @discardableResult
    public func countersign() -> Task<Void, Never> {
        act {
            do {
                _ = try await self.hv.countersign(recordId: self.recordId)
            } catch {
                try? await self.reload()
                throw error
            }
            try await self.reload()
        }
    }

    /// Adds an addendum with `text`, field `changes` and `reason` (`RK-ADDENDUM`).
    @discardableResult
    public func addAddendum(_ text: String, changes: [AmendmentDraft], reason: String) -> Task<Void, Never> {
        act {
            _ = try await self.hv.addAddendum(
                recordId: self.recordId,
                text: text,
                changes: changes.map { Amendment(path: $0.path, newValueJson: $0.newValueJson) },
                reason: reason
            )
            try await self.reload()
        }
    }

    override func from(_ state: SignOffState, _ snapshot: RecordSnapshot) -> SignOffState {
        let c = snapshot.content
        let sign = snapshot.view.signState
        let addenda = liveItems(c, "addenda").map { a -> AddendumRow in
            let changes = a["field_changes"]
            let changeItems = changes?.objectValue.map { Array($0.values) } ?? changes?.arrayValue ?? []
            return AddendumRow(
                addendumId: jsonText(a["item_id"]) ?? "",
                text: jsonText(a["text"]) ?? "",
                reason: jsonText(a["reason"]) ?? "",
                author: jsonText(a["author"] ?? a["user_id"]),
                role: jsonText(a["role"]),
                at: jsonText(a["at"] ?? a["added_at"]),
                changedPaths: changeItems.compactMap { $0.objectValue?["path"]?.stringValue }
            )
        }
        let blockers = snapshot.blockers
        var s = state
        s.banner = snapshot.view.banner
        s.signState = sign
        s.blockers = blockers
        s.canSign = sign == .draft && blockers.isEmpty && snapshot.view.conflicts.isEmpty
        s.canCountersign = sign == .awaitingCountersignature && s.role != .ap
        s.canAddAddendum = sign == .signed || sign == .awaitingCountersignature || sign == .countersigned
        s.addenda = addenda
        s.signedBy = jsonText(Json.at(c, "signature.user_id") ?? Json.at(c, "signature.signer"))
        s.countersignedBy = jsonText(Json.at(c, "countersignature.user_id") ?? Json.at(c, "countersignature.signer"))
        s.conflictCount = snapshot.view.conflicts.count
        s.loading = false
        return s
    }
}

/// A JSON value as text the way Kotlin's `toString()` shows it (strings unquoted), `nil` for
/// absent or null.
func jsonText(_ v: JsonValue?) -> String? {
    guard let v, !v.isNull else { return nil }
    if let s = v.stringValue { return s }
    return Json.write(v)
}

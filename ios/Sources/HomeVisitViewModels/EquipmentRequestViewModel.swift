// Equipment request (DOMAIN.md §3.6): AP measurement entry with range checks (FLD-HARD ERROR,
// FLD-SOFT WARN, EQ-MEAS-REQUIRED, EQ-MEAS-FIT), items and justification, and the workflow
// actions (W1–W19) the signed-in role may take. The table and the checks stay in the core: the
// actions come from Store.workflowActions and a refused move shows its rule ID.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/EquipmentRequestPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

extension MeasurementUnit {
    /// How the unit is written after a number (`kg`, `°`); a count has none.
    public var symbol: String {
        switch self {
        case .kgTenths: return "kg"
        case .cmTenths: return "cm"
        case .mm: return "mm"
        case .degrees: return "°"
        case .pence: return "p"
        case .count: return ""
        }
    }
}

/// One row of the AP measurement table.
///
/// - `input`: the value as typed (`32.4` for kg, `280` for mm), empty when not measured.
/// - `required`: the category needs it at submit (`EQ-MEAS-REQUIRED`).
/// - `hardRange` / `softRange`: the ranges in the unit shown (`50–650 mm`).
/// - `issues`: `FLD-HARD`, `FLD-SOFT`, `EQ-MEAS-REQUIRED`, `EQ-MEAS-AGE`, `EQ-MEAS-FIT`.
public struct MeasurementRow: Equatable, Identifiable, Sendable {
    public let key: MeasurementKey
    public let what: String
    public let unit: String
    public let decimal: Bool
    public let input: String
    public let display: String
    public let measuredOn: String?
    public let required: Bool
    public let hardRange: String
    public let softRange: String
    public let issues: [IssueRow]

    public var id: MeasurementKey { key }
}

/// A workflow move from the current status.
///
/// - `permitted`: the signed-in role may make it; otherwise `refusalRuleId` (`EQ-ROLE`).
/// - `needs`: what the move records, the fields of `TransitionDetails` to ask for.
public struct ActionUi: Equatable, Identifiable, Sendable {
    public let to: EquipmentStatus
    public let number: String
    public let label: String
    public let permitted: Bool
    public let refusalRuleId: String?
    public let needs: [WorkflowNeed]

    public var id: String { number }
}

/// - `status`: the workflow status; `nil` before the first move and under `CF-STATUS`.
/// - `statusConflict`: `CF-STATUS`: concurrent moves wait for an approver's choice.
/// - `role`: the signed-in role, which decides `actions`.
/// - `measurements`: the AP measurement table; required rows first.
/// - `actions`: the moves listed from `status`, permitted ones first.
/// - `canSubmit`: no ERROR, every WARN acknowledged (`EQ-SUBMIT-VALID`), no conflict.
public struct EquipmentRequestState: ScreenState {
    public let recordId: String
    public var banner: Banner?
    public var category: String?
    public var status: EquipmentStatus?
    public var statusConflict: Bool = false
    public var role: Role = .ap
    public var measurements: [MeasurementRow] = []
    public var items: [ItemRowUi] = []
    public var justification: String = ""
    public var fields: [FieldRow] = []
    public var actions: [ActionUi] = []
    public var issues: [IssueRow] = []
    public var canSubmit: Bool = false
    public var conflictCount: Int = 0
    public var loading: Bool = true
    public var error: UiError?

    public init(recordId: String, role: Role = .ap) {
        self.recordId = recordId
        self.role = role
    }
}

/// Today's date in Europe/London (DOMAIN.md §1.1), `YYYY-MM-DD`.
public func londonToday(_ now: Date = Date()) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "Europe/London") ?? .current
    let d = calendar.dateComponents([.year, .month, .day], from: now)
    return String(format: "%04d-%02d-%02d", d.year ?? 1970, d.month ?? 1, d.day ?? 1)
}

/// Events: `setMeasurement`, `setJustification`, `addRequestItem`, `perform` and the shared
/// form events (setValue for `priority` / `estimated_cost_pence`, acknowledge…).
@MainActor
public final class EquipmentRequestViewModel: RecordFormViewModel<EquipmentRequestState> {
    public static let fields: [FieldSpec] = [
        FieldSpec(path: "priority", label: "Priority", kind: .code, options: ["routine", "urgent"]),
        FieldSpec(path: "estimated_cost_pence", label: "Estimated cost (pence)", kind: .integer, unit: "p"),
    ]

    public static let actionLabels: [EquipmentStatus: String] = [
        .submitted: "Submit",
        .infoRequested: "Ask for information",
        .approved: "Approve",
        .declined: "Decline",
        .ordered: "Record order",
        .delivered: "Record delivery",
        .installed: "Record installation",
        .reviewed: "Record review",
        .returned: "Record return",
        .closed: "Close",
        .cancelled: "Cancel request",
        .referredToDfg: "Refer for a DFG",
        .dfgApproved: "DFG approved",
        .dfgDeclined: "DFG declined",
    ]

    private let specs: [MeasurementSpecInfo] = measurementSpecs()
    private let today: () -> String
    // Read with the record on every reload (the category decides what is required).
    private var required: [MeasurementKey] = []
    private var workflow: WorkflowView?

    public init(hv: HomeVisit, recordId: String, today: @escaping () -> String = { londonToday() }) {
        self.today = today
        super.init(hv: hv, recordId: recordId, initial: EquipmentRequestState(recordId: recordId, role: hv.identity.role))
        start()
    }

    override func spec(_ path: String) -> FieldSpec? { Self.fields.first { $0.path == path } }

    /// Records a measurement as typed (kg and cm with one decimal, others whole mm), measured
    /// `measuredOn` (default today). Out-of-range values are kept and flagged.
    @discardableResult
    public func setMeasurement(_ key: MeasurementKey, _ input: String, measuredOn: String? = nil) -> Task<Void, Never> {
        act {
            guard let spec = self.specs.first(where: { $0.key == key }) else {
                throw InputFormatError(ruleId: "FLD-FORMAT", text: "`\(key)` is not a measurement")
            }
            let base = spec.path
            try await self.hv.setField(recordId: self.recordId, path: "\(base).value", value: try fieldValueOf(spec.tenths ? .decimal : .integer, input))
            if !input.trimmingCharacters(in: .whitespaces).isEmpty {
                try await self.hv.setField(recordId: self.recordId, path: "\(base).measured_on", value: .text(value: measuredOn ?? self.today()))
            }
            try await self.reload()
        }
    }

    /// The clinical justification (free text, merges with concurrent typing).
    @discardableResult
    public func setJustification(_ text: String) -> Task<Void, Never> {
        act {
            try await self.hv.setText(recordId: self.recordId, path: "clinical_justification", text: text)
            try await self.reload()
        }
    }

    /// Adds an item to the request (description, quantity 1–10).
    @discardableResult
    public func addRequestItem(_ description: String, quantity: Int64) -> Task<Void, Never> {
        addItem("items", ["description": .string(description), "quantity": .int(quantity)])
    }

    /// Moves the request to `to` (`submitted`, `approved`…) with what that move records. A
    /// refusal (`EQ-ROLE`, `EQ-APPROVE-SELF`, `EQ-SUBMIT-VALID`…) shows as the error.
    @discardableResult
    public func perform(_ to: EquipmentStatus, details: TransitionDetails = TransitionDetails()) -> Task<Void, Never> {
        act {
            do {
                _ = try await self.hv.transition(recordId: self.recordId, to: to, details: details)
            } catch {
                try? await self.reload()
                throw error
            }
            try await self.reload()
        }
    }

    override func reload() async throws {
        required = try await hv.requiredMeasurements(recordId: recordId)
        workflow = try await hv.workflowActions(recordId: recordId)
        try await super.reload()
    }

    override func from(_ state: EquipmentRequestState, _ snapshot: RecordSnapshot) -> EquipmentRequestState {
        let c = snapshot.content
        let issues = snapshot.issues
        func range(_ lo: Int64, _ hi: Int64, _ s: MeasurementSpecInfo) -> String {
            s.tenths ? "\(tenthsText(lo))–\(tenthsText(hi)) \(s.unit.symbol)" : "\(lo)–\(hi) \(s.unit.symbol)"
        }
        let rows = specs.map { s -> MeasurementRow in
            let m = Json.at(c, s.path)?.objectValue
            let v = m?["value"]?.intValue
            return MeasurementRow(
                key: s.key,
                what: s.what,
                unit: s.unit.symbol,
                decimal: s.tenths,
                input: v.map { s.tenths ? tenthsText($0) : String($0) } ?? "",
                display: v.map { s.tenths ? "\(tenthsText($0)) \(s.unit.symbol)" : "\($0) \(s.unit.symbol)" } ?? "—",
                measuredOn: m?["measured_on"]?.stringValue,
                required: required.contains(s.key),
                hardRange: range(s.hardMin, s.hardMax, s),
                softRange: range(s.softMin, s.softMax, s),
                issues: issues.under(s.path)
            )
        }
        let actions = (workflow?.actions ?? []).map {
            ActionUi(to: $0.to, number: $0.number, label: Self.actionLabels[$0.to] ?? "\($0.to)", permitted: $0.permitted,
                     refusalRuleId: $0.refusalRuleId, needs: $0.needs)
        }
        var s = state
        s.banner = snapshot.view.banner
        s.category = c["category"]?.stringValue
        s.status = workflow.map(\.status) ?? state.status
        s.statusConflict = workflow?.statusConflict ?? state.statusConflict
        s.measurements = stablePartition(rows) { $0.required }
        s.items = liveItems(c, "items").map { item in
            ItemRowUi(
                itemId: jsonText(item["item_id"]) ?? "",
                summary: [item["description"]?.stringValue, item["quantity"]?.intValue.map { "× \($0)" }].compactMap { $0 }.joined(separator: " ")
            )
        }
        s.justification = c["clinical_justification"].map { displayValue("clinical_justification", $0) } ?? ""
        s.fields = Self.fields.map { fieldRow($0, c, issues, snapshot.conflictPaths) }
        s.actions = stablePartition(actions) { $0.permitted }
        s.issues = issues
        s.canSubmit = snapshot.blockers.isEmpty && snapshot.view.conflicts.isEmpty
        s.conflictCount = snapshot.view.conflicts.count
        s.loading = false
        return s
    }
}

/// The elements matching `first` ahead of the others, each group in its original order (Kotlin's
/// stable `sortedBy { !it.x }`).
func stablePartition<T>(_ items: [T], first: (T) -> Bool) -> [T] {
    items.filter(first) + items.filter { !first($0) }
}

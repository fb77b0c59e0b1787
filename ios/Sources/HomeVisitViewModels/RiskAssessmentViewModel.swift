// M&H risk assessment (DOMAIN.md §3.5): TILEO checklist, handling tasks with initial and
// residual risk (the matrix, MH-SCORE), the lifting equipment with its SWL and LOLER dates, and
// the SWL check of each hoisted task (MH-SWL ERROR, MH-SWL-MARGIN WARN). The rules run in the
// core; this screen shows their issues with rule IDs and blocks signing while they stand.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/RiskAssessmentPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// The TILEO items (DOMAIN.md §3.5) in checklist order: code, group, label.
public enum Tileo {
    public struct Item: Equatable, Sendable {
        public let code: String
        public let group: String
        public let label: String
    }

    public static let items: [Item] = [
        Item(code: "T1", group: "Task", label: "Lifting most of the child's weight"),
        Item(code: "T2", group: "Task", label: "Stooping, twisting, reaching"),
        Item(code: "T3", group: "Task", label: "Frequent or prolonged handling"),
        Item(code: "T4", group: "Task", label: "Low or cramped position (floor, bath, car)"),
        Item(code: "I1", group: "Individual", label: "Carer health, injury, pregnancy, fatigue"),
        Item(code: "I2", group: "Individual", label: "Untrained in technique or equipment"),
        Item(code: "I3", group: "Individual", label: "Second carer not reliably there"),
        Item(code: "I4", group: "Individual", label: "Shared or respite carers new to the child"),
        Item(code: "L1", group: "Load", label: "Weight or size"),
        Item(code: "L2", group: "Load", label: "Unpredictable movement or behaviour"),
        Item(code: "L3", group: "Load", label: "Medical (seizures, fragile bones, pain, tubes, recent surgery)"),
        Item(code: "L4", group: "Load", label: "Tone, spasms, contractures"),
        Item(code: "L5", group: "Load", label: "Limited understanding or cooperation"),
        Item(code: "E1", group: "Environment", label: "Restricted space"),
        Item(code: "E2", group: "Environment", label: "Steps, uneven or wet floors"),
        Item(code: "E3", group: "Environment", label: "Fixed-height furniture"),
        Item(code: "E4", group: "Environment", label: "Lighting, temperature, clutter"),
        Item(code: "O1", group: "Other", label: "Equipment condition or suitability"),
        Item(code: "O2", group: "Other", label: "Clothing, footwear, splints"),
        Item(code: "O3", group: "Other", label: "Other"),
    ]
}

/// Codes of the M&H record (DOMAIN.md §3.5).
public enum MhCodes {
    public static let places = ["bed", "cot", "wheelchair", "seating_system", "toilet", "commode", "bath", "shower_chair", "changing_bench", "floor", "car", "standing_frame", "other"]
    public static let methods = ["independent", "supervision", "one_carer", "two_carers", "hoist_mobile", "hoist_ceiling", "slide_sheet", "transfer_board"]
    public static let hoistMethods: Set<String> = ["hoist_mobile", "hoist_ceiling"]
    public static let controls = ["equipment_provided", "equipment_changed", "technique_training", "two_carers", "environment_change", "task_avoided", "child_engagement_strategy", "plan_review", "onward_referral", "other"]
    public static let equipmentKinds = ["hoist_mobile", "hoist_ceiling", "hoist_bath", "spreader_bar", "sling"]
    public static let slingTypes = ["hammock_full_body", "divided_leg", "toileting_access", "bathing", "in_situ", "other"]

    /// The task fields that reference equipment, and the kind each takes.
    public static let slots: [(String, String)] = [("hoist_id", "hoist"), ("spreader_bar_id", "spreader bar"), ("sling_id", "sling")]
}

/// One TILEO row: `hazardPresent` is `yes`, `no` or `nil` (unanswered, `MH-TILEO`).
public struct TileoRow: Equatable, Identifiable, Sendable {
    public let code: String
    public let group: String
    public let label: String
    public let hazardPresent: String?
    public let notes: String
    public let issues: [IssueRow]

    public var id: String { code }
}

/// Likelihood × severity with the band the core computes (`MH-SCORE`).
public struct RatingUi: Equatable, Sendable {
    public let likelihood: Int64?
    public let severity: Int64?
    public let score: Int64?
    public let band: RiskBand?
    public let bandLabel: String?
}

/// The SWL check of a hoisted task.
///
/// - `lowestSwlKg`: the lowest SWL of the task's hoist, spreader bar and sling, `50.0`.
/// - `lowestKind`: which equipment has it (`sling`).
/// - `weightKg`: the child's weight on the form, `52.3`.
/// - `ruleId`: `MH-SWL` (ERROR: weight above the lowest SWL), `MH-SWL-MARGIN` (WARN: within
///   10 %), or `nil` when clear, as the core reports it.
public struct SwlUi: Equatable, Sendable {
    public let lowestSwlKg: String
    public let lowestKind: String
    public let weightKg: String?
    public let ruleId: String?
    public let blocking: Bool
}

/// A handling task with its risk ratings, controls, equipment and issues.
public struct TaskRow: Equatable, Identifiable, Sendable {
    public let itemId: String
    public let from: String?
    public let to: String?
    public let method: String?
    public let usesHoist: Bool
    public let carersRequired: Int64?
    public let hoistId: String?
    public let spreaderBarId: String?
    public let slingId: String?
    public let initial: RatingUi
    public let residual: RatingUi
    public let controls: [String]
    public let swl: SwlUi?
    public let issues: [IssueRow]

    public var id: String { itemId }
}

/// A hoist, spreader bar or sling with its LOLER dates.
///
/// - `lolerIssues`: `MH-LOLER-DUE` (ERROR), `MH-LOLER-INTERVAL`, `MH-LOLER-SOON` (WARN) and
///   `MH-SWL-MISSING` for this item.
public struct EquipmentRow: Equatable, Identifiable, Sendable {
    public let itemId: String
    public let kind: String?
    public let label: String
    public let swlKg: String?
    public let integralSpreaderBar: Bool?
    public let lastExamOn: String?
    public let nextExamDueOn: String?
    public let lolerIssues: [IssueRow]

    public var id: String { itemId }
}

/// A carer training record (DOMAIN.md §3.5): who, on which task, hoist and sling, by whom,
/// when, competent or not, and its review date. `issues` are its `MH-TRAINING-REF` findings.
public struct TrainingRow: Equatable, Identifiable, Sendable {
    public let itemId: String
    public let traineeName: String?
    public let traineeRole: String?
    public let taskId: String?
    public let hoistId: String?
    public let slingId: String?
    public let trainedBy: String?
    public let trainedOn: String?
    public let competent: Bool?
    public let reviewDueOn: String?
    public let issues: [IssueRow]

    public var id: String { itemId }
}

/// - `fields`: the scalar fields (date, location, weight and its date, height, carers, review
///   date, task stopped).
/// - `overallBand`: the band of the highest residual score (`.low`…`.extreme`).
/// - `swlIssues`: every `MH-SWL`/`MH-SWL-MARGIN` issue, for the summary banner.
/// - `canSign`: nothing blocks signing.
public struct RiskAssessmentState: ScreenState {
    public let recordId: String
    public var banner: Banner?
    public var signState: SignState?
    public var fields: [FieldRow] = []
    public var tileo: [TileoRow] = []
    public var tasks: [TaskRow] = []
    public var equipment: [EquipmentRow] = []
    public var training: [TrainingRow] = []
    public var trainingIssues: [IssueRow] = []
    public var overallBand: RiskBand?
    public var issues: [IssueRow] = []
    public var swlIssues: [IssueRow] = []
    public var canSign: Bool = false
    public var readOnly: Bool = false
    public var conflictCount: Int = 0
    public var loading: Bool = true
    public var error: UiError?

    public init(recordId: String) {
        self.recordId = recordId
    }
}

/// Events: `setTileo`, `addTask`, `setTaskMethod`, `setRating`, `addControl`, `addEquipment`,
/// `useEquipment`, `setWeight` and the shared form events (setValue, acknowledge, sign…).
@MainActor
public final class RiskAssessmentViewModel: RecordFormViewModel<RiskAssessmentState> {
    public static let fields: [FieldSpec] = [
        FieldSpec(path: "assessment_date", label: "Assessment date", kind: .date),
        FieldSpec(path: "location", label: "Location", kind: .code, options: ["home", "school", "respite", "other"]),
        FieldSpec(path: "avoidance_considered.decision", label: "Can hazardous handling be avoided?", kind: .code, options: ["avoided", "partly", "not_possible"]),
        FieldSpec(path: "avoidance_considered.text", label: "Why", kind: .text),
        FieldSpec(path: "child_weight_kg", label: "Child's weight", kind: .decimal, unit: "kg"),
        FieldSpec(path: "child_weight_measured_on", label: "Weighed on", kind: .date),
        FieldSpec(path: "child_height_cm", label: "Child's height", kind: .decimal, unit: "cm"),
        FieldSpec(path: "carers_available", label: "Carers available", kind: .integer),
        FieldSpec(path: "review_due_on", label: "Review due", kind: .date),
        FieldSpec(path: "task_stopped_pending_review", label: "Task stopped pending review", kind: .flag),
    ]

    /// The id of the equipment the last `addEquipment` created.
    public private(set) var lastEquipmentId: String?

    public init(hv: HomeVisit, recordId: String) {
        super.init(hv: hv, recordId: recordId, initial: RiskAssessmentState(recordId: recordId))
        start()
    }

    override func spec(_ path: String) -> FieldSpec? {
        Self.fields.first { $0.path == path } ?? taskFieldSpec(path)
    }

    private func taskFieldSpec(_ path: String) -> FieldSpec? {
        let last = path.split(separator: ".").last.map(String.init) ?? path
        if path.hasPrefix("lifting_equipment.") && last == "swl_kg" {
            return FieldSpec(path: path, label: "SWL", kind: .decimal, unit: "kg")
        }
        switch last {
        case "likelihood", "severity", "carers_required": return FieldSpec(path: path, label: last, kind: .integer)
        case "integral_spreader_bar", "task_stopped_pending_review": return FieldSpec(path: path, label: last, kind: .flag)
        case "hazard_present": return FieldSpec(path: path, label: last, kind: .code, options: ["yes", "no"])
        case "notes": return FieldSpec(path: path, label: last, kind: .text)
        default: return last.hasSuffix("_on") ? FieldSpec(path: path, label: last, kind: .date) : nil
        }
    }

    /// The child's weight (kg, one decimal) and when it was measured.
    @discardableResult
    public func setWeight(_ kg: String, measuredOn: String) -> Task<Void, Never> {
        act {
            guard let weight = Self.fields.first(where: { $0.path == "child_weight_kg" }) else { return }
            try await self.hv.write(recordId: self.recordId, spec: weight, input: kg)
            try await self.hv.setField(recordId: self.recordId, path: "child_weight_measured_on", value: try fieldValueOf(.date, measuredOn))
            try await self.reload()
        }
    }

    /// Answers a TILEO item; a present hazard needs notes (`MH-TILEO`).
    @discardableResult
    public func setTileo(_ code: String, present: Bool, notes: String = "") -> Task<Void, Never> {
        act {
            guard Tileo.items.contains(where: { $0.code == code }) else {
                throw UiError(kind: .invalidInput, ruleId: nil, text: "no TILEO item \(code)")
            }
            try await self.hv.setField(recordId: self.recordId, path: "tileo.\(code).hazard_present", value: .text(value: present ? "yes" : "no"))
            let trimmed = notes.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty {
                try await self.hv.setField(recordId: self.recordId, path: "tileo.\(code).notes", value: .text(value: trimmed))
            }
            try await self.reload()
        }
    }

    /// Adds a handling task from one place to another; its id is `lastAddedItemId`.
    @discardableResult
    public func addTask(from: String, to: String) -> Task<Void, Never> {
        addItem("tasks", ["from": .string(from), "to": .string(to)])
    }

    /// Sets how a task is done (`hoist_mobile`, `two_carers`…) and how many carers it needs.
    @discardableResult
    public func setTaskMethod(_ taskId: String, method: String, carersRequired: Int64? = nil) -> Task<Void, Never> {
        act {
            try await self.hv.setField(recordId: self.recordId, path: "tasks.\(taskId).method", value: .text(value: method))
            if let carersRequired {
                try await self.hv.setField(recordId: self.recordId, path: "tasks.\(taskId).carers_required", value: .integer(value: carersRequired))
            }
            try await self.reload()
        }
    }

    /// Rates a task's risk before (`initial`) or with (`residual`) its controls, each 1–5.
    @discardableResult
    public func setRating(_ taskId: String, stage: String, likelihood: Int64, severity: Int64) -> Task<Void, Never> {
        act {
            guard stage == "initial" || stage == "residual" else {
                throw UiError(kind: .invalidInput, ruleId: nil, text: "stage is initial or residual")
            }
            try await self.hv.setField(recordId: self.recordId, path: "tasks.\(taskId).\(stage).likelihood", value: .integer(value: likelihood))
            try await self.hv.setField(recordId: self.recordId, path: "tasks.\(taskId).\(stage).severity", value: .integer(value: severity))
            try await self.reload()
        }
    }

    /// Adds a control measure to a task (`MH-CONTROLS`).
    @discardableResult
    public func addControl(_ taskId: String, kind: String, text: String) -> Task<Void, Never> {
        addItem("tasks.\(taskId).controls", ["kind": .string(kind), "text": .string(text)])
    }

    /// Adds a hoist, spreader bar or sling with its SWL (kg, one decimal) and LOLER dates; its
    /// id is `lastEquipmentId`.
    @discardableResult
    public func addEquipment(kind: String, swlKg: String, lastExamOn: String?, nextExamDueOn: String?,
                             integralSpreaderBar: Bool? = nil, makeModel: String? = nil) -> Task<Void, Never> {
        act {
            var fields: [String: JsonValue] = ["kind": .string(kind)]
            if let makeModel { fields["model"] = .string(makeModel) }
            if let integralSpreaderBar { fields["integral_spreader_bar"] = .bool(integralSpreaderBar) }
            let id = try await self.hv.addItem(recordId: self.recordId, listPath: "lifting_equipment", fieldsJson: Json.write(.object(fields)))
            let base = "lifting_equipment.\(id)"
            try await self.hv.setField(recordId: self.recordId, path: "\(base).swl_kg", value: try fieldValueOf(.decimal, swlKg))
            if let lastExamOn {
                try await self.hv.setField(recordId: self.recordId, path: "\(base).last_exam_on", value: .text(value: lastExamOn))
            }
            if let nextExamDueOn {
                try await self.hv.setField(recordId: self.recordId, path: "\(base).next_exam_due_on", value: .text(value: nextExamDueOn))
            }
            self.lastEquipmentId = id
            try await self.reload()
        }
    }

    /// Links a task to equipment: `slot` is `hoist_id`, `spreader_bar_id` or `sling_id`.
    @discardableResult
    public func useEquipment(_ taskId: String, slot: String, equipmentId: String) -> Task<Void, Never> {
        act {
            guard MhCodes.slots.contains(where: { $0.0 == slot }) else {
                throw UiError(kind: .invalidInput, ruleId: nil, text: "slot is hoist_id, spreader_bar_id or sling_id")
            }
            try await self.hv.setField(recordId: self.recordId, path: "tasks.\(taskId).\(slot)", value: .text(value: equipmentId))
            try await self.reload()
        }
    }

    /// Records that `traineeName` was trained on a task with a hoist and sling, by whom and
    /// when, whether found competent, and when it is reviewed (`MH-CARER-TRAINED`).
    @discardableResult
    public func addCarerTraining(
        _ taskId: String, traineeName: String, traineeRole: TraineeRole, hoistId: String?, slingId: String?,
        trainedBy: String, trainedOn: String, competent: Bool, reviewDueOn: String?
    ) -> Task<Void, Never> {
        act {
            _ = try await self.hv.addCarerTraining(
                riskAssessmentId: self.recordId,
                training: CarerTrainingInput(
                    traineeName: traineeName, traineeRole: traineeRole, taskId: taskId, hoistId: hoistId,
                    slingId: slingId, trainedBy: trainedBy, trainedOn: trainedOn, competent: competent,
                    reviewDueOn: reviewDueOn
                )
            )
            try await self.reload()
        }
    }

    override func from(_ state: RiskAssessmentState, _ snapshot: RecordSnapshot) -> RiskAssessmentState {
        let c = snapshot.content
        let issues = snapshot.issues
        let liveEquipment = liveItems(c, "lifting_equipment")
        let equipment = liveEquipment.map { e -> EquipmentRow in
            let id = jsonText(e["item_id"]) ?? ""
            return EquipmentRow(
                itemId: id,
                kind: e["kind"]?.stringValue,
                label: [e["kind"]?.stringValue, e["make"]?.stringValue, e["model"]?.stringValue].compactMap { $0 }.joined(separator: " "),
                swlKg: e["swl_kg"]?.intValue.map(tenthsText),
                integralSpreaderBar: e["integral_spreader_bar"]?.boolValue,
                lastExamOn: e["last_exam_on"]?.stringValue,
                nextExamDueOn: e["next_exam_due_on"]?.stringValue,
                lolerIssues: issues.under("lifting_equipment.\(id)")
            )
        }
        var swlOf: [String: (Int64?, String)] = [:]
        for e in liveEquipment {
            swlOf[jsonText(e["item_id"]) ?? ""] = (e["swl_kg"]?.intValue, e["kind"]?.stringValue ?? "")
        }
        let weight = c["child_weight_kg"]?.intValue
        let tasks = liveItems(c, "tasks").map { t -> TaskRow in
            let id = jsonText(t["item_id"]) ?? ""
            let method = t["method"]?.stringValue
            let taskIssues = issues.under("tasks.\(id)")
            let used: [(Int64, String)] = MhCodes.slots.compactMap { slot in t[slot.0]?.stringValue.flatMap { swlOf[$0] } }
                .compactMap { pair in pair.0.map { ($0, pair.1) } }
            let lowest = used.min { $0.0 < $1.0 }
            let swlIssue = taskIssues.first { $0.ruleId == "MH-SWL" } ?? taskIssues.first { $0.ruleId == "MH-SWL-MARGIN" }
            return TaskRow(
                itemId: id,
                from: t["from"]?.stringValue,
                to: t["to"]?.stringValue,
                method: method,
                usesHoist: method.map { MhCodes.hoistMethods.contains($0) } ?? false,
                carersRequired: t["carers_required"]?.intValue,
                hoistId: t["hoist_id"]?.stringValue,
                spreaderBarId: t["spreader_bar_id"]?.stringValue,
                slingId: t["sling_id"]?.stringValue,
                initial: rating(t["initial"]),
                residual: rating(t["residual"]),
                controls: liveItems(t, "controls").map { [$0["kind"]?.stringValue, $0["text"]?.stringValue].compactMap { $0 }.joined(separator: ": ") },
                swl: lowest.map { pair in
                    SwlUi(
                        lowestSwlKg: tenthsText(pair.0),
                        lowestKind: pair.1.replacingOccurrences(of: "_", with: " "),
                        weightKg: weight.map(tenthsText),
                        ruleId: swlIssue?.ruleId,
                        blocking: swlIssue?.blocking ?? false
                    )
                },
                issues: taskIssues
            )
        }
        let tileo = Tileo.items.map { item -> TileoRow in
            let a = Json.at(c, "tileo.\(item.code)")?.objectValue
            return TileoRow(
                code: item.code,
                group: item.group,
                label: item.label,
                hazardPresent: a?["hazard_present"]?.stringValue,
                notes: a?["notes"]?.stringValue ?? "",
                issues: issues.under("tileo.\(item.code)")
            )
        }
        let overall = tasks.compactMap(\.residual.score).max().flatMap { max in
            tasks.first { $0.residual.score == max }?.residual.band
        }
        let training = liveItems(c, "carer_training").map { t -> TrainingRow in
            let id = jsonText(t["item_id"]) ?? ""
            return TrainingRow(
                itemId: id,
                traineeName: t["trainee_name"]?.stringValue,
                traineeRole: t["trainee_role"]?.stringValue,
                taskId: t["task_id"]?.stringValue,
                hoistId: t["hoist_id"]?.stringValue,
                slingId: t["sling_id"]?.stringValue,
                trainedBy: t["trained_by"]?.stringValue,
                trainedOn: t["trained_on"]?.stringValue,
                competent: t["competent"]?.boolValue,
                reviewDueOn: t["review_due_on"]?.stringValue,
                issues: issues.under("carer_training.\(id)")
            )
        }
        var s = state
        s.banner = snapshot.view.banner
        s.signState = snapshot.view.signState
        s.training = training
        s.trainingIssues = issues.filter { $0.ruleId == "MH-CARER-TRAINED" || $0.ruleId == "MH-TRAINING-REF" }
        s.fields = Self.fields.map { fieldRow($0, c, issues, snapshot.conflictPaths) }
        s.tileo = tileo
        s.tasks = tasks
        s.equipment = equipment
        s.overallBand = overall
        s.issues = issues
        s.swlIssues = issues.filter { $0.ruleId == "MH-SWL" || $0.ruleId == "MH-SWL-MARGIN" }
        s.canSign = snapshot.view.signState == .draft && snapshot.blockers.isEmpty && snapshot.view.conflicts.isEmpty
        s.readOnly = snapshot.view.signState != .draft
        s.conflictCount = snapshot.view.conflicts.count
        s.loading = false
        return s
    }

    private func rating(_ raw: JsonValue?) -> RatingUi {
        let m = raw?.objectValue
        let l = m?["likelihood"]?.intValue
        let s = m?["severity"]?.intValue
        var score: RiskScore?
        if let l, let s { score = try? riskScore(likelihood: l, severity: s) }
        return RatingUi(likelihood: l, severity: s, score: score?.score, band: score?.band, bandLabel: score?.label)
    }
}

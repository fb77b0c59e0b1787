// M&H risk assessment: the scalar fields (weight in kg with one decimal and its date), the TILEO
// checklist, handling tasks with the risk matrix (initial and residual, band from the core), the
// lifting equipment with SWL and LOLER dates, and each hoisted task's SWL check
// (MH-SWL ERROR, MH-SWL-MARGIN WARN) with acknowledgement.
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI

struct RiskAssessmentView: View {
    @StateObject private var model: RiskAssessmentViewModel
    @State private var acknowledging: IssueRow?
    @State private var newFrom = "bed"
    @State private var newTo = "wheelchair"
    @State private var equipmentKind = "hoist_mobile"
    @State private var equipmentSwl = ""
    @State private var equipmentLastExam = ""
    @State private var equipmentNextDue = ""
    @State private var equipmentIntegralBar = false

    init(hv: HomeVisit, recordId: String) {
        _model = StateObject(wrappedValue: RiskAssessmentViewModel(hv: hv, recordId: recordId))
    }

    var body: some View {
        Form {
            BannerView(banner: model.state.banner)
            ErrorBanner(error: model.state.error) { model.dismissError() }
            Section {
                HStack {
                    Text("Overall risk")
                    Spacer()
                    Text(bandName(model.state.overallBand)).bold().foregroundStyle(bandColor(model.state.overallBand))
                }
                ForEach(model.state.swlIssues, id: \.self) { issue in
                    IssueLine(issue: issue, acknowledge: model.state.readOnly ? nil : { acknowledging = $0 })
                }
                if model.state.conflictCount > 0 {
                    NavigationLink(value: Route.conflicts(model.state.recordId)) {
                        Label("\(model.state.conflictCount) conflict(s) to resolve (CF-BLOCK)", systemImage: "arrow.triangle.branch")
                    }
                }
                NavigationLink(value: Route.signOff(model.state.recordId)) {
                    Label(model.state.canSign ? "Ready to sign" : "Sign-off", systemImage: "signature")
                }
            }
            Section("Assessment") {
                ForEach(model.state.fields, id: \.path) { row in
                    FieldEditor(
                        row: row,
                        readOnly: model.state.readOnly,
                        commit: { model.setValue(row.path, $0) },
                        toggle: { code, on in model.toggleCode(row.path, code, on: on) },
                        acknowledge: { acknowledging = $0 }
                    )
                }
            }
            Section("TILEO checklist (MH-TILEO)") {
                ForEach(model.state.tileo) { item in
                    TileoRowView(row: item, readOnly: model.state.readOnly) { present, notes in
                        model.setTileo(item.code, present: present, notes: notes)
                    }
                }
            }
            Section("Handling tasks") {
                ForEach(model.state.tasks) { task in
                    TaskRowView(
                        task: task,
                        equipment: model.state.equipment,
                        readOnly: model.state.readOnly,
                        setMethod: { model.setTaskMethod(task.itemId, method: $0, carersRequired: $1) },
                        setRating: { stage, l, s in model.setRating(task.itemId, stage: stage, likelihood: l, severity: s) },
                        addControl: { kind, text in model.addControl(task.itemId, kind: kind, text: text) },
                        useEquipment: { slot, id in model.useEquipment(task.itemId, slot: slot, equipmentId: id) },
                        acknowledge: { acknowledging = $0 }
                    )
                }
                if !model.state.readOnly {
                    HStack {
                        Picker("From", selection: $newFrom) { ForEach(MhCodes.places, id: \.self) { Text(readable($0)).tag($0) } }
                        Picker("To", selection: $newTo) { ForEach(MhCodes.places, id: \.self) { Text(readable($0)).tag($0) } }
                        Button("Add task") { model.addTask(from: newFrom, to: newTo) }
                    }
                }
            }
            Section("Lifting equipment (LOLER)") {
                ForEach(model.state.equipment) { e in
                    VStack(alignment: .leading, spacing: 2) {
                        Text(e.label.isEmpty ? readable(e.kind) : e.label).font(.headline)
                        Text("SWL \(e.swlKg.map { "\($0) kg" } ?? "—") · examined \(e.lastExamOn ?? "—") · next due \(e.nextExamDueOn ?? "—")")
                            .font(.caption)
                        ForEach(e.lolerIssues, id: \.self) { issue in
                            IssueLine(issue: issue, acknowledge: model.state.readOnly ? nil : { acknowledging = $0 })
                        }
                    }
                }
                if !model.state.readOnly {
                    Picker("Kind", selection: $equipmentKind) { ForEach(MhCodes.equipmentKinds, id: \.self) { Text(readable($0)).tag($0) } }
                    HStack {
                        TextField("SWL", text: $equipmentSwl).keyboardType(.decimalPad)
                        Text("kg").foregroundStyle(.secondary)
                    }
                    TextField("Last thorough examination (YYYY-MM-DD)", text: $equipmentLastExam)
                    TextField("Next examination due (YYYY-MM-DD)", text: $equipmentNextDue)
                    if equipmentKind.hasPrefix("hoist") {
                        Toggle("Integral spreader bar", isOn: $equipmentIntegralBar)
                    }
                    Button("Add equipment") {
                        model.addEquipment(
                            kind: equipmentKind,
                            swlKg: equipmentSwl,
                            lastExamOn: equipmentLastExam.isEmpty ? nil : equipmentLastExam,
                            nextExamDueOn: equipmentNextDue.isEmpty ? nil : equipmentNextDue,
                            integralSpreaderBar: equipmentKind.hasPrefix("hoist") ? equipmentIntegralBar : nil
                        )
                        equipmentSwl = ""
                    }
                    .disabled(equipmentSwl.isEmpty)
                }
            }
            BlockersSection(title: "What blocks signing", issues: model.state.issues.filter(\.blocking)) { acknowledging = $0 }
        }
        .navigationTitle("M&H risk assessment")
        .overlay { if model.state.loading { ProgressView() } }
        .sheet(item: $acknowledging) { issue in
            AcknowledgeSheet(issue: issue) { reason in model.acknowledge(issue.ruleId, issue.path, reason: reason) }
        }
    }
}

func bandColor(_ band: RiskBand?) -> Color {
    switch band {
    case .low: return .green
    case .moderate: return .yellow
    case .high: return .orange
    case .extreme: return .red
    case nil: return .secondary
    }
}

func bandName(_ band: RiskBand?) -> String {
    switch band {
    case .low: return "Low"
    case .moderate: return "Moderate"
    case .high: return "High"
    case .extreme: return "Extreme"
    case nil: return "—"
    }
}

private struct TileoRowView: View {
    let row: TileoRow
    let readOnly: Bool
    let answer: (Bool, String) -> Void
    @State private var notes = ""

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            Text("\(row.code) · \(row.group): \(row.label)")
            Picker("Hazard present", selection: Binding(
                get: { row.hazardPresent ?? "" },
                set: { answer($0 == "yes", notes) }
            )) {
                Text("Unanswered").tag("")
                Text("Yes").tag("yes")
                Text("No").tag("no")
            }
            .pickerStyle(.segmented)
            .disabled(readOnly)
            if row.hazardPresent == "yes" {
                TextField("Notes (required when present)", text: $notes, axis: .vertical)
                    .onSubmit { answer(true, notes) }
                    .disabled(readOnly)
            }
            ForEach(row.issues, id: \.self) { IssueLine(issue: $0) }
        }
        .onAppear { notes = row.notes }
    }
}

private struct TaskRowView: View {
    let task: TaskRow
    let equipment: [EquipmentRow]
    let readOnly: Bool
    let setMethod: (String, Int64?) -> Void
    let setRating: (String, Int64, Int64) -> Void
    let addControl: (String, String) -> Void
    let useEquipment: (String, String) -> Void
    let acknowledge: (IssueRow) -> Void

    @State private var controlKind = "equipment_provided"
    @State private var controlText = ""

    var body: some View {
        VStack(alignment: .leading, spacing: 6) {
            Text("\(readable(task.from)) → \(readable(task.to))").font(.headline)
            Picker("Method", selection: Binding(get: { task.method ?? "" }, set: { setMethod($0, task.carersRequired) })) {
                Text("—").tag("")
                ForEach(MhCodes.methods, id: \.self) { Text(readable($0)).tag($0) }
            }
            .disabled(readOnly)
            Stepper("Carers required: \(task.carersRequired.map { "\($0)" } ?? "—")", onIncrement: {
                setMethod(task.method ?? "one_carer", min((task.carersRequired ?? 0) + 1, 4))
            }, onDecrement: {
                setMethod(task.method ?? "one_carer", max((task.carersRequired ?? 0) - 1, 0))
            })
            .disabled(readOnly || task.method == nil)
            RatingView(title: "Initial risk", rating: task.initial, readOnly: readOnly) { setRating("initial", $0, $1) }
            RatingView(title: "Residual risk", rating: task.residual, readOnly: readOnly) { setRating("residual", $0, $1) }
            if !task.controls.isEmpty {
                Text("Controls: \(task.controls.joined(separator: "; "))").font(.caption)
            }
            if !readOnly {
                HStack {
                    Picker("Control", selection: $controlKind) { ForEach(MhCodes.controls, id: \.self) { Text(readable($0)).tag($0) } }
                    TextField("Detail", text: $controlText)
                    Button("Add") {
                        addControl(controlKind, controlText)
                        controlText = ""
                    }
                }
            }
            if task.usesHoist {
                ForEach(MhCodes.slots.map { $0.0 }, id: \.self) { slot in
                    Picker(readable(slot).capitalized, selection: Binding(
                        get: { slotValue(slot) ?? "" },
                        set: { useEquipment(slot, $0) }
                    )) {
                        Text("—").tag("")
                        ForEach(equipment) { e in Text("\(readable(e.kind)) \(e.swlKg ?? "?") kg").tag(e.itemId) }
                    }
                    .disabled(readOnly)
                }
            }
            if let swl = task.swl {
                Text("Lowest SWL \(swl.lowestSwlKg) kg (\(swl.lowestKind)); child \(swl.weightKg ?? "—") kg\(swl.ruleId.map { " · \($0)" } ?? "")")
                    .font(.caption.bold())
                    .foregroundStyle(swl.ruleId == "MH-SWL" ? Color.red : swl.ruleId == nil ? Color.green : Color.orange)
            }
            ForEach(task.issues, id: \.self) { issue in
                IssueLine(issue: issue, acknowledge: readOnly ? nil : acknowledge)
            }
        }
    }

    private func slotValue(_ slot: String) -> String? {
        switch slot {
        case "hoist_id": return task.hoistId
        case "spreader_bar_id": return task.spreaderBarId
        default: return task.slingId
        }
    }
}

/// Likelihood × severity (1–5 each); score and band come from the core (`MH-SCORE`).
private struct RatingView: View {
    let title: String
    let rating: RatingUi
    let readOnly: Bool
    let set: (Int64, Int64) -> Void

    var body: some View {
        HStack {
            Text(title).font(.subheadline)
            Spacer()
            Picker("Likelihood", selection: Binding(get: { rating.likelihood ?? 0 }, set: { set($0, rating.severity ?? 1) })) {
                Text("L –").tag(Int64(0))
                ForEach(Int64(1)...Int64(5), id: \.self) { Text("L \($0)").tag($0) }
            }
            Picker("Severity", selection: Binding(get: { rating.severity ?? 0 }, set: { set(rating.likelihood ?? 1, $0) })) {
                Text("S –").tag(Int64(0))
                ForEach(Int64(1)...Int64(5), id: \.self) { Text("S \($0)").tag($0) }
            }
            Text(rating.score.map { "\($0) \(rating.bandLabel ?? "")" } ?? "—")
                .bold()
                .foregroundStyle(bandColor(rating.band))
        }
        .disabled(readOnly)
    }
}

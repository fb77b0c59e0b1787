// Equipment request: the AP measurement table (required rows first, hard and soft ranges shown,
// FLD-HARD / FLD-SOFT / EQ-MEAS-* issues under each row), items, justification, priority and
// cost, and the workflow moves the signed-in role may make (W1–W19) with what each records.
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI

struct EquipmentRequestView: View {
    @StateObject private var model: EquipmentRequestViewModel
    @State private var acknowledging: IssueRow?
    @State private var performing: ActionUi?
    @State private var justification = ""
    @State private var itemDescription = ""
    @State private var itemQuantity: Int64 = 1

    init(hv: HomeVisit, recordId: String) {
        _model = StateObject(wrappedValue: EquipmentRequestViewModel(hv: hv, recordId: recordId))
    }

    var body: some View {
        Form {
            BannerView(banner: model.state.banner)
            ErrorBanner(error: model.state.error) { model.dismissError() }
            Section {
                LabeledContent("Category", value: readable(model.state.category))
                LabeledContent("Status", value: statusName(model.state.status, conflict: model.state.statusConflict))
                LabeledContent("Your role", value: roleName(model.state.role))
                if model.state.conflictCount > 0 {
                    NavigationLink(value: Route.conflicts(model.state.recordId)) {
                        Label("\(model.state.conflictCount) conflict(s) to resolve (CF-BLOCK)", systemImage: "arrow.triangle.branch")
                    }
                }
            }
            Section("Workflow") {
                if model.state.actions.isEmpty {
                    Text("No move from \(statusName(model.state.status, conflict: model.state.statusConflict)).").foregroundStyle(.secondary)
                }
                ForEach(model.state.actions) { action in
                    Button {
                        if action.needs.isEmpty {
                            model.perform(action.to)
                        } else {
                            performing = action
                        }
                    } label: {
                        HStack {
                            Text(action.label)
                            Spacer()
                            Text(action.number).font(.caption).foregroundStyle(.secondary)
                            if let rule = action.refusalRuleId {
                                Text(rule).font(.caption.bold()).foregroundStyle(.red)
                            }
                        }
                    }
                    .disabled(!action.permitted || (action.to == .submitted && !model.state.canSubmit))
                }
            }
            Section("Measurements") {
                ForEach(model.state.measurements) { row in
                    MeasurementRowView(row: row) { input in model.setMeasurement(row.key, input) } acknowledge: { acknowledging = $0 }
                }
            }
            Section("Items") {
                ForEach(model.state.items) { item in Text(item.summary) }
                HStack {
                    TextField("Description", text: $itemDescription)
                    Stepper("× \(itemQuantity)", value: $itemQuantity, in: 1...10)
                    Button("Add") {
                        model.addRequestItem(itemDescription, quantity: itemQuantity)
                        itemDescription = ""
                    }
                    .disabled(itemDescription.trimmingCharacters(in: .whitespaces).isEmpty)
                }
            }
            Section("Clinical justification") {
                TextField("Why this equipment", text: $justification, axis: .vertical)
                if justification != model.state.justification {
                    Button("Save") { model.setJustification(justification) }
                }
            }
            Section("Request") {
                ForEach(model.state.fields, id: \.path) { row in
                    FieldEditor(
                        row: row,
                        readOnly: false,
                        commit: { model.setValue(row.path, $0) },
                        toggle: { code, on in model.toggleCode(row.path, code, on: on) },
                        acknowledge: { acknowledging = $0 }
                    )
                }
            }
            BlockersSection(title: "What blocks submitting (EQ-SUBMIT-VALID)", issues: model.state.issues.filter(\.blocking)) { acknowledging = $0 }
        }
        .navigationTitle("Equipment request")
        .overlay { if model.state.loading { ProgressView() } }
        .onChange(of: model.state.justification) { text in justification = text }
        .onAppear { justification = model.state.justification }
        .sheet(item: $acknowledging) { issue in
            AcknowledgeSheet(issue: issue) { reason in model.acknowledge(issue.ruleId, issue.path, reason: reason) }
        }
        .sheet(item: $performing) { action in
            TransitionSheet(action: action) { details in model.perform(action.to, details: details) }
        }
    }
}

/// A request's status as the screen shows it.
func statusName(_ status: EquipmentStatus?, conflict: Bool) -> String {
    guard let status else { return conflict ? "in conflict (CF-STATUS)" : "new" }
    switch status {
    case .draft: return "draft"
    case .submitted: return "submitted"
    case .infoRequested: return "information requested"
    case .approved: return "approved"
    case .declined: return "declined"
    case .ordered: return "ordered"
    case .delivered: return "delivered"
    case .installed: return "installed"
    case .reviewed: return "reviewed"
    case .returned: return "returned"
    case .closed: return "closed"
    case .cancelled: return "cancelled"
    case .referredToDfg: return "referred for a DFG"
    case .dfgApproved: return "DFG approved"
    case .dfgDeclined: return "DFG declined"
    }
}

func roleName(_ role: Role) -> String {
    switch role {
    case .ap: return "Assistant practitioner"
    case .ot: return "Occupational therapist"
    case .approver: return "Approver"
    case .system: return "Team system"
    }
}

private struct MeasurementRowView: View {
    let row: MeasurementRow
    let set: (String) -> Void
    let acknowledge: (IssueRow) -> Void
    @State private var text = ""

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                Text(row.what)
                if row.required { Text("required").font(.caption2.bold()).foregroundStyle(.blue) }
                Spacer()
                TextField(row.decimal ? "0.0" : "0", text: $text)
                    .keyboardType(row.decimal ? .decimalPad : .numberPad)
                    .multilineTextAlignment(.trailing)
                    .frame(maxWidth: 100)
                    .onSubmit { set(text) }
                Text(row.unit).foregroundStyle(.secondary)
                if text != row.input { Button("Save") { set(text) }.buttonStyle(.borderedProminent) }
            }
            Text("Range \(row.hardRange), usual \(row.softRange)\(row.measuredOn.map { " · measured \($0)" } ?? "")")
                .font(.caption2)
                .foregroundStyle(.secondary)
            ForEach(row.issues, id: \.self) { IssueLine(issue: $0, acknowledge: acknowledge) }
        }
        .onAppear { text = row.input }
        .onChange(of: row.input) { text = $0 }
    }
}

/// Asks what a workflow move records (`EQ-REASON`, `EQ-DATES`, supplier, order reference…).
private struct TransitionSheet: View {
    let action: ActionUi
    let done: (TransitionDetails) -> Void
    @Environment(\.dismiss) private var dismiss
    @State private var values: [WorkflowNeed: String] = [:]
    @State private var outcome: ReviewOutcome?

    var body: some View {
        NavigationStack {
            Form {
                ForEach(action.needs, id: \.self) { need in
                    if need == .outcome {
                        Picker("Outcome", selection: $outcome) {
                            Text("—").tag(ReviewOutcome?.none)
                            Text("Suitable").tag(ReviewOutcome?.some(.suitable))
                            Text("Needs adjusting").tag(ReviewOutcome?.some(.adjust))
                            Text("Needs replacing").tag(ReviewOutcome?.some(.replace))
                            Text("No longer needed").tag(ReviewOutcome?.some(.noLongerNeeded))
                        }
                    } else {
                        TextField(needLabel(need), text: binding(need))
                    }
                }
            }
            .navigationTitle("\(action.label) (\(action.number))")
            .toolbar {
                ToolbarItem(placement: .cancellationAction) { Button("Cancel") { dismiss() } }
                ToolbarItem(placement: .confirmationAction) {
                    Button(action.label) {
                        done(details())
                        dismiss()
                    }
                }
            }
        }
    }

    private func needLabel(_ need: WorkflowNeed) -> String {
        switch need {
        case .reason: return "Reason"
        case .eventDate: return "Date (YYYY-MM-DD)"
        case .supplier: return "Supplier"
        case .orderRef: return "Order reference"
        case .contractor: return "Contractor"
        case .outcome: return "Outcome"
        case .condition: return "Condition on return"
        case .housingAuthorityRef: return "Housing authority reference"
        }
    }

    private func binding(_ key: WorkflowNeed) -> Binding<String> {
        Binding(get: { values[key] ?? "" }, set: { values[key] = $0 })
    }

    private func details() -> TransitionDetails {
        func v(_ k: WorkflowNeed) -> String? {
            let t = (values[k] ?? "").trimmingCharacters(in: .whitespaces)
            return t.isEmpty ? nil : t
        }
        return TransitionDetails(
            reason: v(.reason), eventDate: v(.eventDate), supplier: v(.supplier), orderRef: v(.orderRef),
            contractor: v(.contractor), outcome: outcome, condition: v(.condition),
            housingAuthorityRef: v(.housingAuthorityRef)
        )
    }
}

// Sign-off (section J of a home visit; the end of an M&H risk assessment): what blocks signing,
// sign (RK-SIGN), countersign (RK-COUNTERSIGN, OT or approver), and addenda on a signed record
// (RK-SIGN-LOCK, RK-ADDENDUM, RK-AMEND).
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI

struct SignOffView: View {
    @StateObject private var model: SignOffViewModel
    @State private var acknowledging: IssueRow?
    @State private var addendumText = ""
    @State private var addendumReason = ""
    @State private var changePath = ""
    @State private var changeValue = ""
    @State private var changes: [AmendmentDraft] = []

    init(hv: HomeVisit, recordId: String) {
        _model = StateObject(wrappedValue: SignOffViewModel(hv: hv, recordId: recordId))
    }

    var body: some View {
        Form {
            BannerView(banner: model.state.banner)
            ErrorBanner(error: model.state.error) { model.dismissError() }
            Section("Signature") {
                LabeledContent("State", value: signStateName(model.state.signState))
                LabeledContent("Signed by", value: model.state.signedBy ?? "—")
                LabeledContent("Countersigned by", value: model.state.countersignedBy ?? "—")
                if model.state.conflictCount > 0 {
                    NavigationLink(value: Route.conflicts(model.state.recordId)) {
                        Label("\(model.state.conflictCount) conflict(s) block signing (CF-BLOCK)", systemImage: "arrow.triangle.branch")
                    }
                }
                Button(model.state.role == .ap ? "Sign (needs countersignature)" : "Sign") { model.sign() }
                    .disabled(!model.state.canSign)
                if model.state.canCountersign {
                    Button("Countersign") { model.countersign() }
                }
            }
            BlockersSection(title: "What blocks signing", issues: model.state.blockers) { acknowledging = $0 }
            Section("Addenda") {
                ForEach(model.state.addenda) { a in
                    VStack(alignment: .leading, spacing: 2) {
                        Text(a.text)
                        Text("Reason: \(a.reason)").font(.caption)
                        Text("\(a.author ?? "—") (\(a.role ?? "—")) \(a.at ?? "")").font(.caption2).foregroundStyle(.secondary)
                        if !a.changedPaths.isEmpty {
                            Text("Amends \(a.changedPaths.joined(separator: ", "))").font(.caption2)
                        }
                    }
                }
                if model.state.canAddAddendum {
                    TextField("New information", text: $addendumText, axis: .vertical)
                    TextField("Reason", text: $addendumReason)
                    HStack {
                        TextField("Field path (optional)", text: $changePath).textInputAutocapitalization(.never)
                        TextField("New value (JSON, 330 = 33.0 kg)", text: $changeValue).textInputAutocapitalization(.never)
                        Button("Add change") {
                            changes.append(AmendmentDraft(path: changePath, newValueJson: changeValue))
                            changePath = ""
                            changeValue = ""
                        }
                        .disabled(changePath.isEmpty || changeValue.isEmpty)
                    }
                    ForEach(changes, id: \.path) { c in Text("\(c.path) → \(c.newValueJson)").font(.caption) }
                    Button("Add addendum") {
                        model.addAddendum(addendumText, changes: changes, reason: addendumReason)
                        addendumText = ""
                        addendumReason = ""
                        changes = []
                    }
                    .disabled(addendumText.isEmpty || addendumReason.isEmpty)
                } else {
                    Text("Addenda are added once the record is signed.").foregroundStyle(.secondary)
                }
            }
        }
        .navigationTitle("Sign-off")
        .overlay { if model.state.loading { ProgressView() } }
        .sheet(item: $acknowledging) { issue in
            AcknowledgeSheet(issue: issue) { reason in model.acknowledge(issue.ruleId, issue.path, reason: reason) }
        }
    }
}

func signStateName(_ s: SignState?) -> String {
    switch s {
    case .draft?: return "Draft"
    case .signed?: return "Signed"
    case .awaitingCountersignature?: return "Awaiting countersignature"
    case .countersigned?: return "Countersigned"
    case .enteredInError?: return "Entered in error"
    case nil: return "—"
    }
}

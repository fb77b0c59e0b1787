// Home-visit assessment, sections A–J: one section at a time with ERROR/WARN counts per
// section, each field's issues under it with the rule ID, WARN acknowledgement with a reason,
// list items (people present, diagnoses, door widths, goals, recommendations) and sign-off (J).
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI

struct AssessmentFormView: View {
    @StateObject private var model: AssessmentFormViewModel
    @State private var acknowledging: IssueRow?
    private let hv: HomeVisit

    init(hv: HomeVisit, recordId: String) {
        self.hv = hv
        _model = StateObject(wrappedValue: AssessmentFormViewModel(hv: hv, recordId: recordId))
    }

    var body: some View {
        VStack(spacing: 0) {
            BannerView(banner: model.state.banner)
            ErrorBanner(error: model.state.error) { model.dismissError() }
            ScrollView(.horizontal, showsIndicators: false) {
                HStack {
                    ForEach(model.state.sections) { section in
                        Button {
                            model.selectSection(section.id)
                        } label: {
                            VStack(spacing: 2) {
                                Text(section.id).font(.headline)
                                Text(section.title).font(.caption2)
                                if section.errorCount + section.warnCount > 0 {
                                    Text("\(section.errorCount)E \(section.warnCount)W")
                                        .font(.caption2.bold())
                                        .foregroundStyle(section.errorCount > 0 ? Color.red : Color.orange)
                                }
                            }
                            .padding(6)
                            .background(section.id == model.state.selectedSection ? Color.accentColor.opacity(0.2) : Color.clear)
                            .clipShape(RoundedRectangle(cornerRadius: 6))
                        }
                        .buttonStyle(.plain)
                    }
                }
                .padding(.horizontal)
            }
            Form {
                if model.state.readOnly {
                    Label("Signed: new information goes in an addendum (RK-SIGN-LOCK).", systemImage: "lock")
                }
                if model.state.conflictCount > 0 {
                    NavigationLink(value: Route.conflicts(model.state.recordId)) {
                        Label("\(model.state.conflictCount) conflict(s) to resolve (CF-BLOCK)", systemImage: "arrow.triangle.branch")
                    }
                }
                if let section = model.state.current {
                    if section.id == "J" {
                        Section("Sign-off") {
                            NavigationLink(value: Route.signOff(model.state.recordId)) {
                                Label(model.state.canSign ? "Ready to sign" : "Sign, countersign, addenda", systemImage: "signature")
                            }
                        }
                        BlockersSection(title: "What blocks signing", issues: model.state.issues.filter(\.blocking)) { acknowledging = $0 }
                    }
                    Section("\(section.id). \(section.title)") {
                        ForEach(section.fields, id: \.path) { row in
                            FieldEditor(
                                row: row,
                                readOnly: model.state.readOnly,
                                commit: { model.setValue(row.path, $0) },
                                toggle: { code, on in model.toggleCode(row.path, code, on: on) },
                                acknowledge: { acknowledging = $0 }
                            )
                        }
                    }
                    ForEach(section.lists, id: \.path) { list in
                        ItemListSection(list: list, readOnly: model.state.readOnly,
                                        add: { fields in model.addItem(list.path, fields) },
                                        remove: { id in model.removeItem("\(list.path).\(id)") })
                    }
                }
            }
        }
        .navigationTitle("Home visit")
        .overlay { if model.state.loading { ProgressView() } }
        .sheet(item: $acknowledging) { issue in
            AcknowledgeSheet(issue: issue) { reason in model.acknowledge(issue.ruleId, issue.path, reason: reason) }
        }
    }
}

/// A list of a section (`CF-LIST`): its items, removable, and a row to add one.
struct ItemListSection: View {
    let list: ItemListUi
    let readOnly: Bool
    let add: ([String: JsonValue]) -> Void
    let remove: (String) -> Void

    @State private var draft: [String: String] = [:]

    var body: some View {
        Section(list.label) {
            ForEach(list.items) { item in
                Text(item.summary.isEmpty ? "(empty)" : item.summary)
                    .swipeActions {
                        if !readOnly { Button("Remove", role: .destructive) { remove(item.itemId) } }
                    }
            }
            if !readOnly {
                ForEach(list.itemFields, id: \.path) { f in
                    TextField(f.label + (f.unit.map { " (\($0))" } ?? ""), text: Binding(
                        get: { draft[f.path] ?? "" },
                        set: { draft[f.path] = $0 }
                    ))
                }
                Button("Add") {
                    add(itemFields())
                    draft = [:]
                }
                .disabled(draft.values.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty })
            }
        }
    }

    /// The typed fields as JSON: whole numbers for integer fields, text for the rest.
    private func itemFields() -> [String: JsonValue] {
        var out: [String: JsonValue] = [:]
        for f in list.itemFields {
            let t = (draft[f.path] ?? "").trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            if f.kind == .integer, let n = Int64(t) {
                out[f.path] = .int(n)
            } else {
                out[f.path] = .string(t)
            }
        }
        return out
    }
}

extension IssueRow: Identifiable {
    public var id: String { "\(ruleId) \(path)" }
}

// Caseload: every child on this device, search by name / NHS number / DOB, and filters for what
// needs attention (needs signature, unsynced, conflicts).
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI

struct CaseloadView: View {
    let hv: HomeVisit
    let connectivity: Connectivity

    @StateObject private var model: CaseloadViewModel
    @State private var query = ""

    init(hv: HomeVisit, connectivity: Connectivity) {
        self.hv = hv
        self.connectivity = connectivity
        _model = StateObject(wrappedValue: CaseloadViewModel(hv: hv))
    }

    var body: some View {
        List {
            ErrorBanner(error: model.state.error) { model.dismissError() }
            Picker("Show", selection: Binding(get: { model.state.filter }, set: { model.selectFilter($0) })) {
                Text("All").tag(CaseloadFilter.all)
                Text("Needs signature").tag(CaseloadFilter.needsSignature)
                Text("Unsynced").tag(CaseloadFilter.unsynced)
                Text("Conflicts").tag(CaseloadFilter.conflicts)
            }
            .pickerStyle(.segmented)
            if model.state.loading {
                ProgressView()
            } else if model.state.rows.isEmpty {
                Text(model.state.totalChildren == 0 ? "No children on this device yet." : "No child matches.")
                    .foregroundStyle(.secondary)
            }
            ForEach(model.state.rows) { row in
                NavigationLink(value: Route.child(row.childId)) {
                    CaseloadRowView(row: row)
                }
            }
        }
        .searchable(text: $query, prompt: "Name, NHS number or date of birth")
        .onChange(of: query) { text in model.search(text) }
        .refreshable { await model.refresh().value }
        .navigationTitle("Caseload (\(model.state.totalChildren))")
        .toolbar {
            ToolbarItem(placement: .primaryAction) {
                NavigationLink(value: Route.sync) { Label("Sync", systemImage: "arrow.triangle.2.circlepath") }
            }
        }
    }
}

private struct CaseloadRowView: View {
    let row: CaseloadRow

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            Text(row.name).font(.headline)
            HStack(spacing: 12) {
                Text("DOB \(row.dateOfBirth ?? "—")")
                Text("NHS \(row.nhsNumber ?? "—")").monospacedDigit()
                Text("\(row.recordCount) record(s)")
            }
            .font(.caption)
            .foregroundStyle(.secondary)
            HStack(spacing: 8) {
                if row.awaitingSignatureCount > 0 {
                    Label("\(row.awaitingSignatureCount) to sign", systemImage: "signature").foregroundStyle(.blue)
                }
                if row.unsyncedCount > 0 {
                    Label("\(row.unsyncedCount) unsynced", systemImage: "icloud.slash").foregroundStyle(.orange)
                }
                if row.conflictCount > 0 {
                    Label("\(row.conflictCount) conflict(s)", systemImage: "arrow.triangle.branch").foregroundStyle(.purple)
                }
            }
            .font(.caption)
        }
    }
}
